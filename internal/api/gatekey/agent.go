package gatekey

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/pki"
	"netkeep/internal/ratelimit"
)

// agentBody is the request body of every gateway agent endpoint; each
// reads the fields it needs, in either spelling: netkeep's (serial,
// vpn_address) and GateKey's own agent's (serial_number, vpn_ipv4; its
// token in the body). gateway_id, when sent, must be the token's own
// gateway; public_key (heartbeat) is a WireGuard gateway's public key.
// serial is the client certificate's serial in hex (OpenVPN's
// tls_serial_hex_0; colons and case are ignored), certificate its PEM.
// user_id and user_email are what GateKey's agent asks client-rules with:
// the certificate's common name and the auth-user-pass username.
type agentBody struct {
	Token         string `json:"token"`
	GatewayID     string `json:"gateway_id"`
	Version       string `json:"version"`
	PublicKey     string `json:"public_key"`
	CommonName    string `json:"common_name"`
	Serial        string `json:"serial"`
	SerialNumber  string `json:"serial_number"`
	Certificate   string `json:"certificate"`
	ClientIP      string `json:"client_ip"`
	VPNAddress    string `json:"vpn_address"`
	VPNIPv4       string `json:"vpn_ipv4"`
	UserID        string `json:"user_id"`
	UserEmail     string `json:"user_email"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	BytesReceived int64  `json:"bytes_received"`
	BytesSent     int64  `json:"bytes_sent"`
}

func (b *agentBody) cert() gateway.ClientCert {
	return gateway.ClientCert{GatewayID: b.GatewayID, Serial: cmp.Or(b.Serial, b.SerialNumber), CommonName: b.CommonName,
		PEM: b.Certificate, Address: b.ClientIP}
}

var errNoGatewayToken = fault.New(fault.Unauthorized, "a gateway token is required (X-Gateway-Token, or \"token\" in the body)")

// agentFunc serves one agent endpoint for p, the token's gateway.
type agentFunc func(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody)

// agent authenticates a gateway agent by its token, X-Gateway-Token or
// (GateKey's own agent) the body's "token", and decodes the (optional)
// body. Any other credential is refused: these endpoints act for one
// gateway only.
func (h *Handlers) agent(fn agentFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in agentBody
		if r.ContentLength != 0 {
			if err := api.Decode(r, &in); err != nil {
				api.Error(w, r, err)
				return
			}
		}
		header := r.Header.Get("X-Gateway-Token")
		tok := cmp.Or(header, in.Token)
		if tok == "" {
			api.Error(w, r, errNoGatewayToken)
			return
		}
		p, err := h.Gateways.AuthenticateToken(r.Context(), tok)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		// How the token came tells which agent runs the gateway host, and
		// so the form of its client profiles (gateway.AgentKind).
		kind := gateway.AgentNetkeep
		if header == "" {
			kind = gateway.AgentGateKey
		}
		if err := h.Gateways.RecordAgent(r.Context(), p, agentSource(r, p), kind); err != nil {
			api.Error(w, r, err)
			return
		}
		fn(w, r, p, &in)
	})
}

// perGateway limits fn to limit per gateway (the token's), under name;
// over it the agent gets 429 in GateKey's envelope.
func (h *Handlers) perGateway(name string, limit ratelimit.Limit, fn agentFunc) agentFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
		if api.AllowKey(w, r, h.Limiter, name+"|"+p.Subject, limit) {
			fn(w, r, p, in)
		}
	}
}

// agentSource is the audit source of a gateway's request.
func agentSource(r *http.Request, p *authz.Principal) audit.Source {
	src := api.Source(r)
	src.Actor = p.Actor()
	return src
}

// heartbeat: {config_version, needs_reprovision, ca_fingerprint}.
func (h *Handlers) heartbeat(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	rep, err := h.Gateways.Heartbeat(r.Context(), p, agentSource(r, p), gateway.Heartbeat{GatewayID: in.GatewayID, AgentVersion: in.Version, PublicKey: in.PublicKey})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if api.GateKeyProgram(r) {
		// GateKey's agent compares config_version as a string.
		api.WriteJSON(w, http.StatusOK, programHeartbeatJSON{Status: "ok", GatewayID: p.Subject, GatewayName: p.Username,
			ConfigVersion: strconv.FormatInt(rep.ConfigVersion, 10), NeedsReprovision: rep.NeedsReprovision,
			CAFingerprint: rep.CAFingerprint})
		return
	}
	api.WriteJSON(w, http.StatusOK, heartbeatJSON{
		ConfigVersion: rep.ConfigVersion, NeedsReprovision: rep.NeedsReprovision, CAFingerprint: rep.CAFingerprint,
	})
}

// provision answers the gateway's new server certificate and key (never
// stored: this answer is the only copy), every CA its group trusts (the
// issuer first) with each CA's CRL, the tls-crypt key, and what the gateway
// serves. crl_number is the issuer's CRL's.
func (h *Handlers) provision(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	pr, err := h.Gateways.Provision(r.Context(), p, agentSource(r, p), in.GatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	g, c, tr := pr.Gateway, pr.Issued.Certificate, pr.Trust
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, provisionJSON{
		gatekeyProvisionJSON: gatekeyProvisionOf(pr),
		GatewayID:            g.ID,
		Hostname:             g.Hostname,
		Port:                 g.Port,
		Protocol:             string(g.Protocol),
		VPNType:              string(g.VPNType),
		VPNSubnet:            g.VPNSubnet.String(),
		ConfigVersion:        g.ConfigVersion,
		Serial:               string(c.Serial),
		NotAfter:             timestamp(c.NotAfter),
		ServerCert:           string(pr.Issued.CertPEM),
		ServerKey:            string(pr.Issued.KeyPEM),
		CACert:               string(tr.Bundle),
		CAFingerprint:        tr.Issuer.Fingerprint,
		TLSCryptKey:          string(pr.TLSCrypt),
		CRLPEM:               string(tr.CRLBundle()),
		CRLURLs:              crlURLs(tr),
		CRLNumber:            tr.CRLs[0].Number,
		CRLNextUpdate:        timestamp(earliestNextUpdate(tr.CRLs)),
	})
}

// crlURLs are the public addresses of the PEM CRLs of the trusted CAs.
func crlURLs(tr *pki.Trust) []string {
	out := make([]string, len(tr.CAs))
	for i, ca := range tr.CAs {
		out[i] = "/api/v1/pki/cas/" + strconv.FormatInt(ca.ID, 10) + "/crl.pem"
	}
	return out
}

// earliestNextUpdate is when the first of the CRLs goes stale: when the
// gateway must fetch them again.
func earliestNextUpdate(ls []*pki.RevocationList) time.Time {
	t := ls[0].NextUpdate
	for _, l := range ls[1:] {
		if l.NextUpdate.Before(t) {
			t = l.NextUpdate
		}
	}
	return t
}

// verify answers 200 with the client's identity and reachable CIDRs when it
// may connect now, 403 (details.reason) when not. It serves client-rules
// too: what one client may reach is the same verdict.
//
// GateKey's own agent gets its decision in band: 200 with allowed false and
// the reason as text, which its hooks decode (verifyProgram).
func (h *Handlers) verify(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	if api.GateKeyProgram(r) {
		h.verifyProgram(w, r, p, in)
		return
	}
	v, err := h.Gateways.Verify(r.Context(), p, in.cert())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, verdictOf(v))
}

func (in *agentBody) connection() gateway.Connection {
	return gateway.Connection{ClientCert: in.cert(), ClientIP: in.ClientIP, VPNAddress: cmp.Or(in.VPNAddress, in.VPNIPv4),
		BytesIn: in.BytesReceived, BytesOut: in.BytesSent}
}

// connect records a session (201); a refused client gets 403 as for verify.
func (h *Handlers) connect(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	s, err := h.Gateways.Connect(r.Context(), p, agentSource(r, p), in.connection())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if api.GateKeyProgram(r) {
		h.connected(w, r, p, s)
		return
	}
	api.WriteJSON(w, http.StatusCreated, sessionOf(s))
}

// disconnect closes the client's open session; 404 when there is none.
func (h *Handlers) disconnect(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	s, err := h.Gateways.Disconnect(r.Context(), p, agentSource(r, p), in.connection())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, sessionOf(s))
}

// allRules answers every network behind the gateway and every enabled rule
// for them, with the config version they make up.
func (h *Handlers) allRules(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	set, err := h.Gateways.AllRules(r.Context(), p, in.GatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, ruleSetOf(set))
}
