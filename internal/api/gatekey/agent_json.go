package gatekey

import (
	"netkeep/internal/gateway"
	"netkeep/internal/vpnconfig"
)

// The answers of the gateway-agent endpoints: plain objects (no "data"
// envelope), with the fields the agent reads.

// heartbeatJSON tells the agent what to refresh: its rules when
// config_version grew, its certificate when needs_reprovision, its CA when
// ca_fingerprint changed.
type heartbeatJSON struct {
	ConfigVersion    int64  `json:"config_version"`
	NeedsReprovision bool   `json:"needs_reprovision"`
	CAFingerprint    string `json:"ca_fingerprint"`
}

// provisionJSON is what a gateway serves: its settings, its new server
// certificate and key (this answer is the only copy of the key), the CA,
// the tls-crypt key and the current CRL, with the fields GateKey's own
// agent reads (gatekeyProvisionJSON).
type provisionJSON struct {
	gatekeyProvisionJSON
	GatewayID     string `json:"gateway_id"`
	Hostname      string `json:"hostname"`
	Port          int    `json:"port"`
	Protocol      string `json:"protocol"`
	VPNType       string `json:"vpn_type"`
	VPNSubnet     string `json:"vpn_subnet"`
	ConfigVersion int64  `json:"config_version"`
	Serial        string `json:"serial"`
	NotAfter      string `json:"not_after"`
	ServerCert    string `json:"server_cert"`
	ServerKey     string `json:"server_key"`
	CACert        string `json:"ca_cert"`        // every trusted CA, PEM, the issuer first
	CAFingerprint string `json:"ca_fingerprint"` // the issuer's
	TLSCryptKey   string `json:"tls_crypt_key"`
	CRLPEM        string `json:"crl_pem"` // each trusted CA's CRL, PEM, same order
	// CRLURLs are where to refresh each of those CRLs (PEM), same order.
	CRLURLs       []string `json:"crl_urls"`
	CRLNumber     int64    `json:"crl_number"`
	CRLNextUpdate string   `json:"crl_next_update"`
}

// verdictJSON is an allowed client (verify, client-rules): who it is and
// what it may reach, as CIDRs for the gateway's routes and as the grants
// they come from.
type verdictJSON struct {
	Allowed    bool        `json:"allowed"`
	UserID     int64       `json:"user_id"`
	Username   string      `json:"username"`
	CommonName string      `json:"common_name"`
	Serial     string      `json:"serial"`
	ExpiresAt  string      `json:"expires_at"`
	CIDRs      []string    `json:"cidrs"`
	Rules      []grantJSON `json:"rules"`
}

func verdictOf(v *gateway.Verdict) verdictJSON {
	dests := gateway.Destinations(v.Grants)
	cidrs := make([]string, len(dests))
	for i, d := range dests {
		cidrs[i] = d.String()
	}
	rules := make([]grantJSON, len(v.Grants))
	for i, g := range v.Grants {
		rules[i] = grantOf(g)
	}
	return verdictJSON{
		Allowed: true, UserID: v.User.ID, Username: v.User.Username,
		CommonName: v.Certificate.CommonName, Serial: string(v.Certificate.Serial),
		ExpiresAt: timestamp(v.Certificate.NotAfter), CIDRs: cidrs, Rules: rules,
	}
}

// ruleSetJSON is every network behind a gateway and every enabled rule for
// them, with the config version they make up (all-rules).
type ruleSetJSON struct {
	GatewayID     string               `json:"gateway_id"`
	ConfigVersion int64                `json:"config_version"`
	Networks      []ruleSetNetworkJSON `json:"networks"`
	Rules         []ruleJSON           `json:"rules"`
	// Hubs: the mesh hubs the gateway is the hub or a spoke of, with the
	// prefixes it routes through each.
	Hubs []hubRouteJSON `json:"hubs"`
}

type hubRouteJSON struct {
	HubID        string      `json:"hub_id"`
	Name         string      `json:"name"`
	Role         string      `json:"role"`
	HubGatewayID string      `json:"hub_gateway_id"`
	Spokes       []spokeJSON `json:"spokes"`
	Routes       []string    `json:"routes"`
}

type ruleSetNetworkJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	CIDR string `json:"cidr"`
}

func ruleSetOf(set *gateway.RuleSet) ruleSetJSON {
	nets := make([]ruleSetNetworkJSON, len(set.Networks))
	for i, n := range set.Networks {
		nets[i] = ruleSetNetworkJSON{ID: n.ID, Name: n.Name, CIDR: n.CIDR.String()}
	}
	rules := make([]ruleJSON, len(set.Rules))
	for i, r := range set.Rules {
		rules[i] = ruleOf(r)
	}
	hubs := make([]hubRouteJSON, len(set.Hubs))
	for i, h := range set.Hubs {
		routes := make([]string, len(h.Routes))
		for j, p := range h.Routes {
			routes[j] = p.String()
		}
		hubs[i] = hubRouteJSON{HubID: h.Hub.ID, Name: h.Hub.Name, Role: h.Role, HubGatewayID: h.Hub.GatewayID,
			Spokes: hubOf(h.Hub).Spokes, Routes: routes}
	}
	return ruleSetJSON{GatewayID: set.Gateway.ID, ConfigVersion: set.Gateway.ConfigVersion, Networks: nets, Rules: rules, Hubs: hubs}
}

// peerSetJSON is a WireGuard gateway's interface settings and its active
// client peers (wireguard-peers).
type peerSetJSON struct {
	GatewayID     string     `json:"gateway_id"`
	ConfigVersion int64      `json:"config_version"`
	PublicKey     string     `json:"public_key"`
	Address       string     `json:"address"`
	ListenPort    int        `json:"listen_port"`
	Peers         []peerJSON `json:"peers"`
}

// peerJSON is one client peer; allowed_ips is its tunnel address, /32.
type peerJSON struct {
	ConfigID   string   `json:"config_id"`
	UserID     int64    `json:"user_id"`
	PublicKey  string   `json:"public_key"`
	AllowedIPs []string `json:"allowed_ips"`
	ExpiresAt  string   `json:"expires_at"`
}

func peerSetOf(set *vpnconfig.PeerSet) peerSetJSON {
	peers := make([]peerJSON, len(set.Peers))
	for i, p := range set.Peers {
		peers[i] = peerJSON{ConfigID: p.ConfigID, UserID: p.UserID, PublicKey: p.PublicKey,
			AllowedIPs: []string{p.AllowedIPs.String()}, ExpiresAt: timestamp(p.ExpiresAt)}
	}
	return peerSetJSON{GatewayID: set.GatewayID, ConfigVersion: set.ConfigVersion, PublicKey: set.PublicKey,
		Address: set.Address.String(), ListenPort: set.ListenPort, Peers: peers}
}
