package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// agentBody is the request body of every gateway agent endpoint; each
// reads the fields it needs. gateway_id, when sent, must be the token's own
// gateway; public_key (heartbeat) is a WireGuard gateway's public key. serial is the client certificate's serial in hex (OpenVPN's
// tls_serial_hex_0; colons and case are ignored), certificate its PEM.
type agentBody struct {
	GatewayID     string `json:"gateway_id"`
	Version       string `json:"version"`
	PublicKey     string `json:"public_key"`
	CommonName    string `json:"common_name"`
	Serial        string `json:"serial"`
	Certificate   string `json:"certificate"`
	ClientIP      string `json:"client_ip"`
	VPNAddress    string `json:"vpn_address"`
	BytesReceived int64  `json:"bytes_received"`
	BytesSent     int64  `json:"bytes_sent"`
}

func (b *agentBody) cert() gateway.ClientCert {
	return gateway.ClientCert{GatewayID: b.GatewayID, Serial: b.Serial, CommonName: b.CommonName, PEM: b.Certificate}
}

var errNoGatewayToken = fault.New(fault.Unauthorized, "X-Gateway-Token is required")

type agentFunc func(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody)

// agent serves a gateway-agent endpoint of the gateway service.
func (h *GatewayHandlers) agent(fn agentFunc) http.Handler { return agentHandler(h.Gateways, fn) }

// agentHandler authenticates a gateway agent by its X-Gateway-Token and
// decodes the (optional) body. Any other credential is refused: these
// endpoints act for one gateway only.
func agentHandler(auth AgentAuthenticator, fn agentFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Gateway-Token")
		if tok == "" {
			api.Error(w, r, errNoGatewayToken)
			return
		}
		p, err := auth.AuthenticateToken(r.Context(), tok)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		var in agentBody
		if r.ContentLength != 0 {
			if err := api.Decode(r, &in); err != nil {
				api.Error(w, r, err)
				return
			}
		}
		fn(w, r, p, &in)
	})
}

// agentSource is the audit source of a gateway's request.
func agentSource(r *http.Request, p *authz.Principal) audit.Source {
	src := api.Source(r)
	src.Actor = p.Actor()
	return src
}

// heartbeat: {config_version, needs_reprovision, ca_fingerprint}, at most
// HeartbeatLimit per gateway.
func (h *GatewayHandlers) heartbeat(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	if !api.AllowKey(w, r, h.Limiter, "gatekey-heartbeat|"+p.Subject, HeartbeatLimit) {
		return
	}
	rep, err := h.Gateways.Heartbeat(r.Context(), p, agentSource(r, p), gateway.Heartbeat{GatewayID: in.GatewayID, AgentVersion: in.Version, PublicKey: in.PublicKey})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"config_version": rep.ConfigVersion, "needs_reprovision": rep.NeedsReprovision, "ca_fingerprint": rep.CAFingerprint,
	})
}

// provision answers the gateway's new server certificate and key (never
// stored: this answer is the only copy), the CA, the tls-crypt key and the
// current CRL, with what the gateway serves.
func (h *GatewayHandlers) provision(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	pr, err := h.Gateways.Provision(r.Context(), p, agentSource(r, p), in.GatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	g, c := pr.Gateway, pr.Issued.Certificate
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"gateway_id":      g.ID,
		"hostname":        g.Hostname,
		"port":            g.Port,
		"protocol":        g.Protocol,
		"vpn_type":        g.VPNType,
		"vpn_subnet":      g.VPNSubnet.String(),
		"config_version":  g.ConfigVersion,
		"serial":          c.Serial,
		"not_after":       timestamp(c.NotAfter),
		"server_cert":     string(pr.Issued.CertPEM),
		"server_key":      string(pr.Issued.KeyPEM),
		"ca_cert":         string(pr.CA.PEM),
		"ca_fingerprint":  pr.CA.Fingerprint,
		"tls_crypt_key":   string(pr.TLSCrypt),
		"crl_pem":         string(pr.CRL.PEM),
		"crl_number":      pr.CRL.Number,
		"crl_next_update": timestamp(pr.CRL.NextUpdate),
	})
}

// verify answers 200 with the client's identity and reachable CIDRs when it
// may connect now, 403 (details.reason) when not. It serves client-rules
// too: what one client may reach is the same verdict.
func (h *GatewayHandlers) verify(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	v, err := h.Gateways.Verify(r.Context(), p, in.cert())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, verdictJSON(v))
}

func verdictJSON(v *gateway.Verdict) map[string]any {
	cidrs := []string{}
	for _, d := range gateway.Destinations(v.Grants) {
		cidrs = append(cidrs, d.String())
	}
	rules := make([]map[string]any, len(v.Grants))
	for i, g := range v.Grants {
		rules[i] = grantJSON(g)
	}
	return map[string]any{
		"allowed": true, "user_id": v.User.ID, "username": v.User.Username,
		"common_name": v.Certificate.CommonName, "serial": v.Certificate.Serial,
		"expires_at": timestamp(v.Certificate.NotAfter), "cidrs": cidrs, "rules": rules,
	}
}

func (in *agentBody) connection() gateway.Connection {
	return gateway.Connection{ClientCert: in.cert(), ClientIP: in.ClientIP, VPNAddress: in.VPNAddress,
		BytesIn: in.BytesReceived, BytesOut: in.BytesSent}
}

// connect records a session (201); a refused client gets 403 as for verify.
func (h *GatewayHandlers) connect(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	s, err := h.Gateways.Connect(r.Context(), p, agentSource(r, p), in.connection())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, sessionJSON(s))
}

// disconnect closes the client's open session; 404 when there is none.
func (h *GatewayHandlers) disconnect(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	s, err := h.Gateways.Disconnect(r.Context(), p, agentSource(r, p), in.connection())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, sessionJSON(s))
}

// allRules answers every network behind the gateway and every enabled rule
// for them, with the config version they make up.
func (h *GatewayHandlers) allRules(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	set, err := h.Gateways.AllRules(r.Context(), p, in.GatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	nets := make([]map[string]any, len(set.Networks))
	for i, n := range set.Networks {
		nets[i] = map[string]any{"id": n.ID, "name": n.Name, "cidr": n.CIDR.String()}
	}
	rules := make([]map[string]any, len(set.Rules))
	for i, rule := range set.Rules {
		rules[i] = ruleJSON(rule)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"gateway_id": set.Gateway.ID, "config_version": set.Gateway.ConfigVersion, "networks": nets, "rules": rules,
	})
}
