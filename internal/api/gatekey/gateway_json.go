package gatekey

import (
	"time"

	"netkeep/internal/gateway"
)

// optionalTime is t in RFC 3339, or nil (null).
func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

// orEmpty is s, or an empty list (never null) when s is nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// gatewayJSON is a gateway as the user API shows it: the seed's fields and
// vpn_type, its status derived from the last heartbeat.
type gatewayJSON struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Description   string  `json:"description"`
	Hostname      string  `json:"hostname"`
	Port          int     `json:"port"`
	Protocol      string  `json:"protocol"`
	VPNType       string  `json:"vpn_type"`
	Status        string  `json:"status"`
	LastHeartbeat *string `json:"last_heartbeat"`
	// Endpoint is hostname under the name GateKey's programs read.
	Endpoint string `json:"endpoint"`
}

func gatewayOf(g *gateway.Gateway, now time.Time) gatewayJSON {
	return gatewayJSON{
		ID: g.ID, Name: g.Name, Description: g.Description, Hostname: g.Hostname, Port: g.Port,
		Protocol: string(g.Protocol), VPNType: string(g.VPNType), Status: string(g.StatusAt(now)),
		LastHeartbeat: optionalTime(g.LastHeartbeat), Endpoint: g.Hostname,
	}
}

// adminGatewayJSON adds what administrators manage and monitor; never the
// token or the tls-crypt key.
type adminGatewayJSON struct {
	gatewayJSON
	GroupID       int64   `json:"group_id"`
	VPNSubnet     string  `json:"vpn_subnet"`
	ConfigVersion int64   `json:"config_version"`
	AgentVersion  string  `json:"agent_version"`
	PublicKey     string  `json:"public_key"`
	CertSerial    string  `json:"cert_serial"`
	CertExpiresAt *string `json:"cert_expires_at"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
	// IsProvisioned: the gateway has fetched its server certificate.
	IsProvisioned bool `json:"is_provisioned"`
}

func adminGatewayOf(g *gateway.Gateway, now time.Time) adminGatewayJSON {
	return adminGatewayJSON{
		gatewayJSON: gatewayOf(g, now), GroupID: g.GroupID, VPNSubnet: g.VPNSubnet.String(),
		ConfigVersion: g.ConfigVersion, AgentVersion: g.AgentVersion, PublicKey: g.PublicKey,
		CertSerial: g.CertSerial, CertExpiresAt: optionalTime(g.CertNotAfter),
		CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt), IsProvisioned: g.CertSerial != "",
	}
}

// createdGatewayJSON is a gateway with its token, answered once: on
// creation and on regeneration of the token.
type createdGatewayJSON struct {
	adminGatewayJSON
	Token string `json:"token"`
}

type networkJSON struct {
	ID          string   `json:"id"`
	GroupID     int64    `json:"group_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	CIDR        string   `json:"cidr"`
	GatewayIDs  []string `json:"gateway_ids"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	// GatewayID is the first gateway, as gatekey-admin reads it.
	GatewayID string `json:"gateway_id"`
}

func networkOf(n *gateway.Network) networkJSON {
	out := networkJSON{
		ID: n.ID, GroupID: n.GroupID, Name: n.Name, Description: n.Description, CIDR: n.CIDR.String(),
		GatewayIDs: orEmpty(n.GatewayIDs), CreatedAt: timestamp(n.CreatedAt), UpdatedAt: timestamp(n.UpdatedAt),
	}
	if len(n.GatewayIDs) > 0 {
		out.GatewayID = n.GatewayIDs[0]
	}
	return out
}

// ruleJSON is an access rule; ports is a list like "80,443" or
// "8000-8100" ("": every port).
type ruleJSON struct {
	ID          string  `json:"id"`
	GroupID     int64   `json:"group_id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	NetworkID   string  `json:"network_id"`
	Destination string  `json:"destination"`
	Protocol    string  `json:"protocol"`
	Ports       string  `json:"ports"`
	UserIDs     []int64 `json:"user_ids"`
	GroupIDs    []int64 `json:"group_ids"`
	Enabled     bool    `json:"enabled"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	// AllowedCIDRs and IsActive are destination and enabled as
	// gatekey-admin reads them.
	AllowedCIDRs []string `json:"allowed_cidrs"`
	IsActive     bool     `json:"is_active"`
}

func ruleOf(r *gateway.Rule) ruleJSON {
	return ruleJSON{
		ID: r.ID, GroupID: r.GroupID, Name: r.Name, Description: r.Description, NetworkID: r.NetworkID,
		Destination: r.Destination.String(), Protocol: string(r.Protocol), Ports: gateway.FormatPorts(r.Ports),
		UserIDs: orEmpty(r.UserIDs), GroupIDs: orEmpty(r.GroupIDs), Enabled: r.Enabled,
		CreatedAt: timestamp(r.CreatedAt), UpdatedAt: timestamp(r.UpdatedAt),
		AllowedCIDRs: []string{r.Destination.String()}, IsActive: r.Enabled,
	}
}

// spokeJSON is one site a hub links: {"type": "gateway"|"network", "id"}.
type spokeJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type hubJSON struct {
	ID          string      `json:"id"`
	GroupID     int64       `json:"group_id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	GatewayID   string      `json:"gateway_id"`
	Spokes      []spokeJSON `json:"spokes"`
	CreatedAt   string      `json:"created_at"`
	UpdatedAt   string      `json:"updated_at"`
}

func hubOf(h *gateway.Hub) hubJSON {
	spokes := make([]spokeJSON, len(h.Spokes))
	for i, sp := range h.Spokes {
		spokes[i] = spokeJSON{Type: string(sp.Kind), ID: sp.ID}
	}
	return hubJSON{
		ID: h.ID, GroupID: h.GroupID, Name: h.Name, Description: h.Description, GatewayID: h.GatewayID,
		Spokes: spokes, CreatedAt: timestamp(h.CreatedAt), UpdatedAt: timestamp(h.UpdatedAt),
	}
}

// sessionJSON is one VPN connection; disconnected_at is null while it is
// open.
type sessionJSON struct {
	ID             string  `json:"id"`
	GatewayID      string  `json:"gateway_id"`
	UserID         int64   `json:"user_id"`
	Username       string  `json:"username"`
	CommonName     string  `json:"common_name"`
	Serial         string  `json:"serial"`
	ClientIP       string  `json:"client_ip"`
	VPNAddress     string  `json:"vpn_address"`
	Active         bool    `json:"active"`
	ConnectedAt    string  `json:"connected_at"`
	DisconnectedAt *string `json:"disconnected_at"`
	BytesReceived  int64   `json:"bytes_received"`
	BytesSent      int64   `json:"bytes_sent"`
}

func sessionOf(s *gateway.Session) sessionJSON {
	return sessionJSON{
		ID: s.ID, GatewayID: s.GatewayID, UserID: s.UserID, Username: s.Username, CommonName: s.CommonName,
		Serial: s.Serial, ClientIP: s.ClientIP, VPNAddress: s.VPNAddress, Active: s.Active(),
		ConnectedAt: timestamp(s.ConnectedAt), DisconnectedAt: optionalTime(s.DisconnectedAt),
		BytesReceived: s.BytesIn, BytesSent: s.BytesOut,
	}
}

// grantJSON is one destination a verified client may reach.
type grantJSON struct {
	RuleID      string `json:"rule_id"`
	NetworkID   string `json:"network_id"`
	Destination string `json:"destination"`
	Protocol    string `json:"protocol"`
	Ports       string `json:"ports"`
}

func grantOf(g gateway.Grant) grantJSON {
	return grantJSON{RuleID: g.RuleID, NetworkID: g.NetworkID, Destination: g.Destination.String(),
		Protocol: string(g.Protocol), Ports: gateway.FormatPorts(g.Ports)}
}
