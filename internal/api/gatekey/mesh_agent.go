package gatekey

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// The endpoints of GateKey's mesh agents: gatekey-hub on a hub's host
// (/api/v1/mesh-hub/*) and gatekey-mesh-gateway on a spoke's
// (/api/v1/mesh-spoke/*, and /api/v1/mesh-gateway/*, the paths that
// program calls). A hub and a spoke are gateways in netkeep, so each agent
// authenticates with its gateway's token (the one `mesh hub|spoke
// provision` issues): in the JSON body's "token" as the agents send it,
// or in X-Gateway-Token, or, for the hub's GET requests, in the "token"
// query parameter or an "Authorization: Bearer" header. The domain
// (gateway.HubNode, gateway.SpokeNode) refuses a gateway that is not that
// kind of node (403). No seed documents these routes: every client gets
// the agents' camelCase shapes. The field names below are the agents'
// own.

// MeshAgents is what the mesh agents' endpoints need of the gateway
// domain; *gateway.Service implements it.
type MeshAgents interface {
	HubNode(ctx context.Context, p *authz.Principal) (*gateway.HubNode, error)
	HubHeartbeat(ctx context.Context, p *authz.Principal, src audit.Source, reported string) (*gateway.HubNode, *gateway.MeshBeat, error)
	ProvisionHub(ctx context.Context, p *authz.Principal, src audit.Source) (*gateway.Provisioned, string, error)
	ReportMesh(ctx context.Context, p *authz.Principal, src audit.Source, r gateway.MeshReport) error
	HubClientGrants(ctx context.Context, p *authz.Principal, clients []string) (map[string][]gateway.Grant, error)
	SpokeHeartbeat(ctx context.Context, p *authz.Principal, reported string) (*gateway.SpokeNode, *gateway.MeshBeat, error)
	ProvisionSpoke(ctx context.Context, p *authz.Principal, src audit.Source) (*gateway.SpokeProvisioned, error)
}

// meshBody is the body of every mesh agent request; each endpoint reads
// the fields it needs.
type meshBody struct {
	Token         string   `json:"token"`
	Status        string   `json:"status"`
	ConfigVersion string   `json:"configVersion"`
	SpokeID       string   `json:"spokeId"`
	UserID        string   `json:"userId"`
	RemoteIP      string   `json:"remoteIp"`
	ClientIP      string   `json:"clientIp"`
	TunnelIP      string   `json:"tunnelIp"`
	ClientEmail   string   `json:"clientEmail"`
	Clients       []string `json:"clients"`
}

// meshFunc serves one mesh agent endpoint for p, the token's gateway.
type meshFunc func(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody)

// meshAgent authenticates a mesh agent by its gateway token and decodes
// the (optional) body, as agent does for gateway agents; the agent is
// GateKey's (gateway.AgentGateKey): its hub's OpenVPN server runs tls-auth.
func (h *Handlers) meshAgent(fn meshFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in meshBody
		if r.ContentLength != 0 && r.Method != http.MethodGet {
			if err := api.Decode(r, &in); err != nil {
				api.Error(w, r, err)
				return
			}
		}
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok := cmp.Or(r.Header.Get("X-Gateway-Token"), in.Token, r.URL.Query().Get("token"), bearer)
		if tok == "" {
			api.Error(w, r, errNoGatewayToken)
			return
		}
		p, err := h.Gateways.AuthenticateToken(r.Context(), tok)
		if err == nil {
			err = h.Gateways.RecordAgent(r.Context(), p, agentSource(r, p), gateway.AgentGateKey)
		}
		if err != nil {
			api.Error(w, r, err)
			return
		}
		fn(w, r, p, &in)
	})
}

// meshLimited limits fn to limit per gateway, as perGateway.
func (h *Handlers) meshLimited(name string, fn meshFunc) meshFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody) {
		if api.AllowKey(w, r, h.Limiter, name+"|"+p.Subject, HeartbeatLimit) {
			fn(w, r, p, in)
		}
	}
}

// meshBeatJSON answers both agents' heartbeats: each provisions again when
// needsReprovision is set, then keeps configVersion. tlsAuthEnabled is
// the spoke's.
type meshBeatJSON struct {
	OK                bool   `json:"ok"`
	NeedsReprovision  bool   `json:"needsReprovision"`
	ConfigVersion     string `json:"configVersion"`
	RootCAFingerprint string `json:"rootCAFingerprint"`
	TLSAuthEnabled    *bool  `json:"tlsAuthEnabled,omitempty"`
}

func beatOf(b *gateway.MeshBeat) meshBeatJSON {
	return meshBeatJSON{OK: true, NeedsReprovision: b.NeedsReprovision, ConfigVersion: b.Version, RootCAFingerprint: b.CAFingerprint}
}

func (h *Handlers) hubHeartbeat(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody) {
	_, beat, err := h.Gateways.HubHeartbeat(r.Context(), p, agentSource(r, p), in.ConfigVersion)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, beatOf(beat))
}

// hubProvisionJSON is what gatekey-hub (and GateKey's hub installer, with
// jq) reads of its provisioning, under its lowercase names: the CAs its
// OpenVPN server trusts (every CA of the group, the issuer first), its
// server certificate and key (this answer is the only copy of the key),
// its tls-auth key (the hub gateway's OpenVPN static key) and listener.
// dhparams is empty: the hub generates its own.
type hubProvisionJSON struct {
	CACert         string `json:"cacert"`
	ServerCert     string `json:"servercert"`
	ServerKey      string `json:"serverkey"`
	DHParams       string `json:"dhparams"`
	TLSAuthEnabled bool   `json:"tlsauthenabled"`
	TLSAuthKey     string `json:"tlsauthkey"`
	VPNPort        int    `json:"vpnport"`
	VPNProtocol    string `json:"vpnprotocol"`
	VPNSubnet      string `json:"vpnsubnet"`
	CryptoProfile  string `json:"cryptoprofile"`
	ConfigVersion  string `json:"configversion"`
}

func (h *Handlers) hubProvision(w http.ResponseWriter, r *http.Request, p *authz.Principal, _ *meshBody) {
	pr, version, err := h.Gateways.ProvisionHub(r.Context(), p, agentSource(r, p))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	g := pr.Gateway
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, hubProvisionJSON{
		CACert: string(pr.Trust.Bundle), ServerCert: string(pr.Issued.CertPEM), ServerKey: string(pr.Issued.KeyPEM),
		TLSAuthEnabled: len(pr.TLSCrypt) > 0, TLSAuthKey: string(pr.TLSCrypt),
		VPNPort: g.Port, VPNProtocol: string(g.Protocol), VPNSubnet: g.VPNSubnet.String(),
		CryptoProfile: "modern", ConfigVersion: version,
	})
}

// hubRoutes answers every prefix the hub routes to its sites.
func (h *Handlers) hubRoutes(w http.ResponseWriter, r *http.Request, p *authz.Principal, _ *meshBody) {
	n, err := h.Gateways.HubNode(r.Context(), p)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	routes := make([]string, len(n.Routes))
	for i, pr := range n.Routes {
		routes[i] = pr.String()
	}
	api.WriteJSON(w, http.StatusOK, map[string][]string{"routes": routes})
}

// hubSpokeJSON is a spoke as gatekey-hub reads it: it writes a
// client-config-dir file named SpokeCNPrefix + name that pushes tunnelIp
// and routes localNetworks to the spoke, and skips a spoke without
// tunnelIp. id is the admin API's spoke id; status as the admin views
// show it (spokes.go).
type hubSpokeJSON struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	LocalNetworks []string `json:"localNetworks"`
	TunnelIP      string   `json:"tunnelIp"`
	Status        string   `json:"status"`
}

func (h *Handlers) hubSpokesView(w http.ResponseWriter, r *http.Request, p *authz.Principal, _ *meshBody) {
	n, err := h.Gateways.HubNode(r.Context(), p)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]hubSpokeJSON, len(n.Spokes))
	for i, st := range n.Spokes {
		out[i] = hubSpokeJSON{ID: st.Hub.ID + ":" + st.Gateway.ID, Name: st.Gateway.Name,
			LocalNetworks: prefixStrings(st.Networks), Status: spokeStatus(st.Gateway, h.now())}
		if st.TunnelIP.IsValid() {
			out[i].TunnelIP = st.TunnelIP.String()
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string][]hubSpokeJSON{"spokes": out})
}

// hubReport records what the hub's agent reports of a spoke or a client
// (gateway.ReportMesh) and answers {"ok": true}.
func (h *Handlers) hubReport(event string) meshFunc {
	return func(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody) {
		err := h.Gateways.ReportMesh(r.Context(), p, agentSource(r, p), gateway.MeshReport{Event: event,
			Spoke: in.SpokeID, User: in.UserID, RemoteIP: cmp.Or(in.RemoteIP, in.ClientIP), TunnelIP: in.TunnelIP})
		if err != nil {
			api.Error(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}

// hubClientRules answers what one client (clientEmail, its certificate's
// common name) may reach through the hub: {"rules": [...]}.
func (h *Handlers) hubClientRules(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody) {
	if in.ClientEmail == "" {
		api.Error(w, r, fault.New(fault.Invalid, "clientEmail is required").WithDetails(map[string]any{"field": "clientEmail"}))
		return
	}
	grants, err := h.Gateways.HubClientGrants(r.Context(), p, []string{in.ClientEmail})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string][]programDestJSON{"rules": programDests(grants[in.ClientEmail])})
}

// hubAllClientRules answers the same for every connected client the hub
// lists, {"clientRules": {common name: [...]}}; gatekey-hub programs
// nftables from it and denies a client everything else.
func (h *Handlers) hubAllClientRules(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody) {
	grants, err := h.Gateways.HubClientGrants(r.Context(), p, in.Clients)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make(map[string][]programDestJSON, len(grants))
	for cn, gs := range grants {
		out[cn] = programDests(gs)
	}
	api.WriteJSON(w, http.StatusOK, map[string]map[string][]programDestJSON{"clientRules": out})
}

func prefixStrings[P interface{ String() string }](ps []P) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
