package gatekey

import (
	"fmt"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
)

// gatekey-admin's `mesh hub provision` and `mesh spoke provision`, and the
// web UI's provision buttons. A hub and a spoke are gateways in netkeep
// (spokes.go), so provisioning one is preparing its host's gateway agent:
// netkeep gives the node's gateway a new token (gateway.ProvisionMeshNode:
// the old token stops working) and answers the agent's configuration with
// it. With that configuration (or GateKey's gateway installer and the same
// token) the host's agent provisions its certificates itself through
// /api/v1/gateway/provision, as any gateway does.

// meshProvisionJSON answers a provisioning: gateway, config, token and
// message as gatekey-admin decodes them (it prints config), configVersion
// as GateKey's web UI reads it (the node's gateway's configuration version,
// as its heartbeat reports it), hasCACert and hasServerCert as GateKey's
// server reports a hub's provisioning (netkeep's CA; the gateway has
// fetched its server certificate). The token is shown once.
type meshProvisionJSON struct {
	Gateway       adminGatewayJSON `json:"gateway"`
	Config        string           `json:"config"`
	Token         string           `json:"token"`
	Message       string           `json:"message"`
	ConfigVersion string           `json:"configVersion"`
	HasCACert     bool             `json:"hasCACert"`
	HasServerCert bool             `json:"hasServerCert"`
}

// agentConfig is the gateway.yaml of GateKey's gateway agent for g, with
// the installer's command line that writes the same file.
func agentConfig(baseURL string, g *gateway.Gateway, token, node string) string {
	return fmt.Sprintf(`# gatekey-gateway configuration of the mesh %s %q, from netkeep.
# Write it to /etc/gatekey/gateway.yaml, or install the host with:
#   ./install-gateway.sh --server %s --token %s --name %s
name: %s
control_plane_url: %s
token: %s
heartbeat_interval: "30s"
log_level: "info"
`, node, g.Name, baseURL, token, strconv.Quote(g.Name),
		strconv.Quote(g.Name), strconv.Quote(baseURL), strconv.Quote(token))
}

func (h *Handlers) provisionHub(w http.ResponseWriter, r *http.Request) {
	h.provisionMeshNode(w, r, r.PathValue("id"), "")
}

func (h *Handlers) provisionSpoke(w http.ResponseWriter, r *http.Request) {
	hubID, sp, err := spokeID(r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.provisionMeshNode(w, r, hubID, sp.ID)
}

// provisionMeshNode provisions the hub's gateway (spokeGatewayID "") or
// one of its gateway spokes and answers a meshProvisionJSON.
func (h *Handlers) provisionMeshNode(w http.ResponseWriter, r *http.Request, hubID, spokeGatewayID string) {
	c, err := h.Gateways.ProvisionMeshNode(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), hubID, spokeGatewayID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	node := gateway.NodeHub
	if spokeGatewayID != "" {
		node = gateway.NodeSpoke
	}
	_, caErr := h.PKI.CA()
	g := c.Gateway
	w.Header().Set("Cache-Control", "no-store")
	writeUI(w, r, http.StatusOK, "", meshProvisionJSON{
		Gateway: adminGatewayOf(g, h.now()), Token: c.Token,
		Config: agentConfig(api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders), g, c.Token, node),
		Message: fmt.Sprintf("mesh %s provisioned: gateway %s has a new token (the previous one no longer works); "+
			"its agent fetches its certificates with it", node, g.Name),
		ConfigVersion: strconv.FormatInt(g.ConfigVersion, 10), HasCACert: caErr == nil, HasServerCert: g.CertSerial != "",
	})
}
