package gatekey

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/remote"
)

// The web UI's hub pages (AdminMesh): a hub's install script and the
// networks reachable through it. GateKey's "hub networks" are, in
// netkeep, the hub's network spokes (gateway.Spoke of kind network): the
// same link gatekey-admin's topology and /api/v1/gateway/all-rules show,
// so assigning one here is AddSpoke, removing one RemoveSpoke (audited as
// mesh-hub.update). The UI reads {"networks": [...]}; the seed's data and
// meta stand beside it, as for the hub's spokes (mesh_ui.go).

// hubNetworkJSON is a hub network as the UI reads it (MeshHubNetwork).
// isActive is always true: a netkeep network has no inactive state.
type hubNetworkJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	CIDR        string `json:"cidr"`
	IsActive    bool   `json:"isActive"`
}

func (h *Handlers) hubNetworks(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	hub, err := h.Gateways.AdminHub(r.Context(), p, r.PathValue("id"))
	var nets []*gateway.Network
	if err == nil {
		nets, err = h.Gateways.Networks(r.Context(), p)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := []hubNetworkJSON{}
	for _, n := range nets {
		for _, sp := range hub.Spokes {
			if sp.Kind == gateway.SpokeNetwork && sp.ID == n.ID {
				out = append(out, hubNetworkJSON{ID: n.ID, Name: n.Name, Description: n.Description, CIDR: n.CIDR.String(), IsActive: true})
			}
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"networks": out, "data": out,
		"meta": listMeta{Total: len(out), Page: 1, PerPage: len(out)}})
}

// hubNetworkBody names the network to assign: networkId as the UI sends
// it, network_id in netkeep's spelling.
type hubNetworkBody struct {
	NetworkID  string `json:"networkId"`
	NetworkIDs string `json:"network_id"`
}

// assignHubNetwork makes a network of the hub's group reachable through
// it. Assigning one it has already succeeds, as in GateKey.
func (h *Handlers) assignHubNetwork(w http.ResponseWriter, r *http.Request) {
	var in hubNetworkBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	id := in.NetworkID
	if id == "" {
		id = in.NetworkIDs
	}
	if id == "" {
		api.Error(w, r, fault.New(fault.Invalid, "networkId is required").WithDetails(map[string]any{"field": "networkId"}))
		return
	}
	_, err := h.Gateways.AddSpoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"),
		gateway.Spoke{Kind: gateway.SpokeNetwork, ID: id})
	if err != nil && !fault.Is(err, fault.Conflict) {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"message": "network assigned to hub"})
}

func (h *Handlers) removeHubNetwork(w http.ResponseWriter, r *http.Request) {
	_, err := h.Gateways.RemoveSpoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"),
		gateway.Spoke{Kind: gateway.SpokeNetwork, ID: r.PathValue("network_id")})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"message": "network removed from hub"})
}

// hubInstallScript answers a shell script that configures gatekey-hub on
// the hub's host. netkeep keeps only a hash of the hub's token, so the
// script cannot carry it: it takes the token that provisioning the hub
// showed as its argument (or GATEKEY_HUB_TOKEN) and writes the agent's
// configuration with this server's address and the hub gateway's listener.
func (h *Handlers) hubInstallScript(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	hub, err := h.Gateways.AdminHub(r.Context(), p, r.PathValue("id"))
	var g *gateway.Gateway
	if err == nil {
		g, err = h.Gateways.AdminGateway(r.Context(), p, hub.GatewayID)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	script := hubScript(api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders), hub, g)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="install-hub-`+scriptName(hub.Name)+`.sh"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(script))
}

// hubScript is the install script of hub's gateway g. The configuration
// goes through a quoted here-document (YAML double-quoted values), so
// nothing an administrator named runs in the shell; names in the message
// are single-quoted (remote.ShellQuote), and the comment holds no newline (names
// have no control characters).
func hubScript(baseURL string, hub *gateway.Hub, g *gateway.Gateway) string {
	yaml := fmt.Sprintf("name: %s\ncontrol_plane_url: %s\nvpn_port: %d\nvpn_protocol: %s\nheartbeat_interval: \"30s\"\nlog_level: \"info\"\n",
		strconv.Quote(g.Name), strconv.Quote(baseURL), g.Port, strconv.Quote(string(g.Protocol)))
	return fmt.Sprintf(`#!/bin/bash
# Configures GateKey's mesh hub agent (gatekey-hub) for the hub %s of netkeep.
# Usage: sudo bash install-hub.sh HUB_TOKEN   (or GATEKEY_HUB_TOKEN=... sudo -E bash install-hub.sh)
# The token is the one provisioning the hub showed (gatekey-admin mesh hub provision,
# or the web UI's Provision button); provisioning again replaces it.
set -euo pipefail
TOKEN="${1:-${GATEKEY_HUB_TOKEN:-}}"
if [[ -z "$TOKEN" ]]; then
    echo "usage: $0 HUB_TOKEN" >&2
    exit 2
fi
if [[ ! "$TOKEN" =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "the token has unexpected characters" >&2
    exit 2
fi
install -d -m 0755 /etc/gatekey-hub /etc/openvpn/server/ccd /var/log/openvpn
umask 077
# A quoted here-document: the shell expands nothing in it.
cat > /etc/gatekey-hub/config.yaml <<'EOF'
%sEOF
printf 'api_token: "%%s"\n' "$TOKEN" >> /etc/gatekey-hub/config.yaml
printf 'Wrote /etc/gatekey-hub/config.yaml for %%s (%%s %%s/%%d).\n' %s %s %s %d
echo "Install gatekey-hub and its OpenVPN server, then run: gatekey-hub provision && gatekey-hub run"
`, hub.Name, yaml, remote.ShellQuote(g.Name), remote.ShellQuote(g.Hostname), remote.ShellQuote(string(g.Protocol)), g.Port)
}

// scriptName is name made safe for a file name.
func scriptName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, name)
}
