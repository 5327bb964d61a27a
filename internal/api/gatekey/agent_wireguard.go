package gatekey

import (
	"context"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/vpnconfig"
)

// AgentAuthenticator turns a gateway token into the gateway agent's
// principal; *gateway.Service implements it.
type AgentAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (*authz.Principal, error)
}

// wireGuardPeers answers a WireGuard gateway's interface settings and its
// active client peers (POST like the other agent endpoints; the optional
// body {"gateway_id"} must name the token's gateway):
//
//	{"gateway_id", "config_version", "public_key", "address", "listen_port",
//	 "peers": [{"config_id", "user_id", "public_key", "allowed_ips": ["10.8.0.2/32"], "expires_at"}]}
//
// The agent fetches it at start and whenever a heartbeat reports a newer
// config_version, and replaces its peers with the list.
func (h *ConfigHandlers) wireGuardPeers(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *agentBody) {
	set, err := h.Configs.Peers(r.Context(), p, in.GatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, peerSetJSON(set))
}

func peerSetJSON(set *vpnconfig.PeerSet) map[string]any {
	peers := make([]map[string]any, len(set.Peers))
	for i, p := range set.Peers {
		peers[i] = map[string]any{
			"config_id": p.ConfigID, "user_id": p.UserID, "public_key": p.PublicKey,
			"allowed_ips": []string{p.AllowedIPs.String()}, "expires_at": timestamp(p.ExpiresAt),
		}
	}
	return map[string]any{
		"gateway_id": set.GatewayID, "config_version": set.ConfigVersion, "public_key": set.PublicKey,
		"address": set.Address.String(), "listen_port": set.ListenPort, "peers": peers,
	}
}
