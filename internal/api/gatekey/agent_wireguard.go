package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
)

// wireGuardPeers answers a WireGuard gateway's interface settings and its
// active client peers (POST like the other agent endpoints; the optional
// body {"gateway_id"} must name the token's gateway):
//
//	{"gateway_id", "config_version", "public_key", "address", "listen_port",
//	 "peers": [{"config_id", "user_id", "public_key", "allowed_ips": ["10.8.0.2/32"], "expires_at"}]}
//
// The agent fetches it at start and whenever a heartbeat reports a newer
// config_version, and replaces its peers with the list.
func (h *Handlers) wireGuardPeers(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	set, err := h.Configs.Peers(r.Context(), p, in.GatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, peerSetOf(set))
}
