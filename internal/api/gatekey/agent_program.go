package gatekey

import (
	"cmp"
	"net/http"
	"net/netip"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// The answers GateKey's own gateway agent (gatekey-gateway) and its OpenVPN
// hooks decode, in their field names and types. They are chosen by
// api.GateKeyProgram; the provisioning fields are added to netkeep's answer
// for every agent.

// programHeartbeatJSON: the agent compares config_version as a string and
// provisions itself when it has none yet or needs_reprovision is set.
type programHeartbeatJSON struct {
	Status           string `json:"status"`
	GatewayID        string `json:"gateway_id"`
	GatewayName      string `json:"gateway_name"`
	ConfigVersion    string `json:"config_version"`
	NeedsReprovision bool   `json:"needs_reprovision"`
	CAFingerprint    string `json:"ca_fingerprint"`
}

// gatekeyProvisionJSON is what GateKey's agent reads of a provisioning
// besides the certificates: it writes tls_auth_key as the server's ta.key
// (its OpenVPN server runs "tls-auth ta.key 0") when tls_auth_enabled. The
// key is the gateway's OpenVPN static key, the one netkeep's own profiles
// use for tls-crypt.
type gatekeyProvisionJSON struct {
	GatewayName    string `json:"gateway_name"`
	VPNNetwork     string `json:"vpn_network"`
	VPNNetmask     string `json:"vpn_netmask"`
	VPNPort        int    `json:"vpn_port"`
	VPNProtocol    string `json:"vpn_protocol"`
	CryptoProfile  string `json:"crypto_profile"`
	TLSAuthEnabled bool   `json:"tls_auth_enabled"`
	TLSAuthKey     string `json:"tls_auth_key"`
}

func gatekeyProvisionOf(pr *gateway.Provisioned) gatekeyProvisionJSON {
	g := pr.Gateway
	out := gatekeyProvisionJSON{GatewayName: g.Name, VPNPort: g.Port, VPNProtocol: string(g.Protocol),
		CryptoProfile: "modern", TLSAuthEnabled: len(pr.TLSCrypt) > 0, TLSAuthKey: string(pr.TLSCrypt)}
	if n := g.VPNSubnet.Masked(); n.Addr().Is4() {
		out.VPNNetwork, out.VPNNetmask = n.Addr().String(), netmask(n)
	}
	return out
}

// netmask is an IPv4 prefix's dotted mask.
func netmask(p netip.Prefix) string {
	var m [4]byte
	for i := range p.Bits() {
		m[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(m).String()
}

// programVerdictJSON is verify's in-band decision for GateKey's hooks:
// allowed, and the refusal's reason as text.
type programVerdictJSON struct {
	Allowed     bool   `json:"allowed"`
	Reason      string `json:"reason,omitempty"`
	Code        string `json:"code,omitempty"`
	GatewayID   string `json:"gateway_id"`
	GatewayName string `json:"gateway_name"`
	UserID      int64  `json:"user_id,omitempty"`
	Username    string `json:"username,omitempty"`
}

// verifyProgram answers a hook's verify in band. A tls-verify call for an
// issuer certificate (depth 1 and up) carries neither common name nor
// serial: OpenVPN has checked that certificate against the CA it was given
// (netkeep's, written at provisioning), and the client certificate is
// decided at depth 0, so it is allowed.
func (h *Handlers) verifyProgram(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	out := programVerdictJSON{GatewayID: p.Subject, GatewayName: p.Username}
	c := in.cert()
	if c.CommonName == "" && c.Serial == "" && c.PEM == "" && in.Password == "" {
		out.Allowed, out.Reason = true, "issuer certificate: checked by OpenVPN against the CA"
		api.WriteJSON(w, http.StatusOK, out)
		return
	}
	v, err := h.Gateways.Verify(r.Context(), p, c)
	if err != nil {
		fe := fault.As(err)
		if fe == nil || fe.Code != fault.Forbidden && fe.Code != fault.Invalid {
			api.Error(w, r, err)
			return
		}
		out.Reason = fe.Message
		if reason, ok := fe.Details["reason"].(fault.Reason); ok {
			out.Code = string(reason)
		}
		api.WriteJSON(w, http.StatusOK, out)
		return
	}
	out.Allowed, out.UserID, out.Username = true, v.User.ID, v.User.Username
	api.WriteJSON(w, http.StatusOK, out)
}

// programConnectJSON is client-connect's answer for GateKey's hook: the
// lines it writes into OpenVPN's client-connect file, pushing a route to
// each network the client may reach.
type programConnectJSON struct {
	Allow        bool     `json:"allow"`
	Message      string   `json:"message,omitempty"`
	SessionID    string   `json:"session_id"`
	ClientConfig []string `json:"client_config"`
}

func (h *Handlers) connected(w http.ResponseWriter, r *http.Request, p *authz.Principal, s *gateway.Session) {
	v, err := h.Gateways.Verify(r.Context(), p, gateway.ClientCert{Serial: s.Serial, CommonName: s.CommonName})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	lines := []string{}
	for _, d := range gateway.Destinations(v.Grants) {
		lines = append(lines, pushRoute(d))
	}
	api.WriteJSON(w, http.StatusCreated, programConnectJSON{Allow: true, SessionID: s.ID, ClientConfig: lines})
}

// pushRoute is the client-connect directive routing d through the tunnel.
func pushRoute(d netip.Prefix) string {
	d = d.Masked()
	if d.Addr().Is4() {
		return `push "route ` + d.Addr().String() + " " + netmask(d) + `"`
	}
	return `push "route-ipv6 ` + d.String() + `"`
}

// programRulesJSON is client-rules for GateKey's agent, which programs
// nftables from it every few seconds: each destination the client may
// reach, with its port ("" for any, "80", "8000-8080") and protocol
// ("tcp", "udp" or "" for any); everything else is denied.
type programRulesJSON struct {
	UserID   string            `json:"user_id"`
	ClientIP string            `json:"client_ip"`
	Allowed  []programDestJSON `json:"allowed"`
	Default  string            `json:"default"`
}

type programDestJSON struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Port     string `json:"port"`
	Protocol string `json:"protocol"`
}

func programRulesOf(userID, clientIP string, grants []gateway.Grant) programRulesJSON {
	return programRulesJSON{UserID: userID, ClientIP: clientIP, Allowed: programDests(grants), Default: "deny"}
}

// programDests are grants as GateKey's agents program them into nftables,
// one entry per destination and port range.
func programDests(grants []gateway.Grant) []programDestJSON {
	out := []programDestJSON{}
	for _, g := range grants {
		proto := string(g.Protocol)
		if g.Protocol == gateway.RuleAny {
			proto = ""
		}
		kind, value := "cidr", g.Destination.String()
		if g.Destination.IsSingleIP() {
			kind, value = "ip", g.Destination.Addr().String()
		}
		if len(g.Ports) == 0 {
			out = append(out, programDestJSON{Type: kind, Value: value, Protocol: proto})
		}
		for _, pr := range g.Ports {
			port := strconv.Itoa(int(pr.From))
			if pr.To != pr.From {
				port += "-" + strconv.Itoa(int(pr.To))
			}
			out = append(out, programDestJSON{Type: kind, Value: value, Port: port, Protocol: proto})
		}
	}
	return out
}

// clientRules answers what one client may reach. netkeep's spelling names
// the client by its certificate (serial or PEM) and gets verify's verdict;
// GateKey's agent names it by common name (user_id) and tunnel address
// (client_ip) and gets programRulesJSON, with nothing allowed for a client
// that has no open session or is refused now.
func (h *Handlers) clientRules(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	if in.cert().Serial != "" || in.Certificate != "" || !api.GateKeyProgram(r) {
		h.verify(w, r, p, in)
		return
	}
	cn := cmp.Or(in.UserID, in.CommonName)
	_, v, err := h.Gateways.ClientGrants(r.Context(), p, gateway.SessionMatch{CommonName: cn, VPNAddress: in.ClientIP})
	var grants []gateway.Grant
	switch {
	case err == nil:
		grants = v.Grants
	case fault.Is(err, fault.NotFound), fault.Is(err, fault.Forbidden):
	default:
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, programRulesOf(in.UserID, in.ClientIP, grants))
}
