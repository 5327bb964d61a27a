package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
)

// spokeProvisionJSON is what gatekey-mesh-gateway (and GateKey's spoke
// installer) reads of its provisioning: the hub to dial (hubEndpoint is the
// hub gateway's hostname), the CAs, its client certificate and key (this
// answer is the only copy of the key), the hub's tls-auth key, its fixed
// tunnel address and the networks behind it. gatewayName is the spoke's
// gateway's name, which its certificate's common name carries after
// gateway.SpokeCNPrefix.
type spokeProvisionJSON struct {
	GatewayID      string   `json:"gatewayId"`
	GatewayName    string   `json:"gatewayName"`
	HubEndpoint    string   `json:"hubEndpoint"`
	HubVPNPort     int      `json:"hubVpnPort"`
	HubVPNProtocol string   `json:"hubVpnProtocol"`
	CACert         string   `json:"caCert"`
	ClientCert     string   `json:"clientCert"`
	ClientKey      string   `json:"clientKey"`
	TunnelIP       string   `json:"tunnelIp"`
	LocalNetworks  []string `json:"localNetworks"`
	TLSAuthEnabled bool     `json:"tlsAuthEnabled"`
	TLSAuthKey     string   `json:"tlsAuthKey"`
	CryptoProfile  string   `json:"cryptoProfile"`
	ConfigVersion  string   `json:"configVersion"`
}

func (h *Handlers) spokeProvision(w http.ResponseWriter, r *http.Request, p *authz.Principal, _ *meshBody) {
	pr, err := h.Gateways.ProvisionSpoke(r.Context(), p, agentSource(r, p))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	n, hg := pr.Node, pr.Node.HubGateway
	out := spokeProvisionJSON{
		GatewayID: n.Site.Gateway.ID, GatewayName: n.Site.Gateway.Name,
		HubEndpoint: hg.Hostname, HubVPNPort: hg.Port, HubVPNProtocol: string(hg.Protocol),
		CACert: string(pr.Trust.Bundle), ClientCert: string(pr.Issued.CertPEM), ClientKey: string(pr.Issued.KeyPEM),
		LocalNetworks: prefixStrings(n.Site.Networks), TLSAuthEnabled: len(pr.TLSAuth) > 0, TLSAuthKey: string(pr.TLSAuth),
		CryptoProfile: "modern", ConfigVersion: n.Version,
	}
	if n.Site.TunnelIP.IsValid() {
		out.TunnelIP = n.Site.TunnelIP.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) spokeHeartbeat(w http.ResponseWriter, r *http.Request, p *authz.Principal, in *meshBody) {
	_, beat, err := h.Gateways.SpokeHeartbeat(r.Context(), p, in.ConfigVersion)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := beatOf(beat)
	tlsAuth := true // every gateway has its static key from creation on
	out.TLSAuthEnabled = &tlsAuth
	api.WriteJSON(w, http.StatusOK, out)
}
