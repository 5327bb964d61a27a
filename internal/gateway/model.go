package gateway

import (
	"net/netip"
	"time"
)

// Protocol is the transport a gateway's VPN listens on.
type Protocol string

// The gateway transports.
const (
	ProtocolUDP Protocol = "udp"
	ProtocolTCP Protocol = "tcp"
)

// VPNType is the VPN software a gateway runs.
type VPNType string

// The VPN types.
const (
	VPNOpenVPN   VPNType = "openvpn"
	VPNWireGuard VPNType = "wireguard"
)

// Status is a gateway's liveness as shown to callers, derived from its last
// heartbeat (see Gateway.StatusAt); it is never stored.
type Status string

// The statuses: online while the last heartbeat is younger than
// OfflineAfter, offline otherwise (and before the first heartbeat).
const (
	StatusOnline  Status = "online"
	StatusOffline Status = "offline"
)

// Defaults of a new gateway.
const (
	DefaultPort = 1194
	// OfflineAfter is how long after its last heartbeat a gateway still
	// counts as online: three missed 30-second heartbeats.
	OfflineAfter = 90 * time.Second
)

// DefaultVPNSubnet is the client address pool of a new gateway, as
// OpenVPN's sample server configuration uses.
var DefaultVPNSubnet = netip.MustParsePrefix("10.8.0.0/24")

// Gateway is a VPN server of a group. Its agent authenticates with a
// gateway token, of which only the SHA-256 is stored (never part of
// Gateway); its tls-crypt key is stored sealed and read through
// Service.TLSCryptKey.
type Gateway struct {
	ID          string // "gw-" + 16 hex digits
	GroupID     int64
	Name        string // unique within the group
	Description string
	Hostname    string // what clients connect to: a DNS name or an IP address
	Port        int
	Protocol    Protocol
	VPNType     VPNType
	// VPNSubnet is the pool the gateway assigns client tunnel addresses from.
	VPNSubnet netip.Prefix
	// ConfigVersion grows with every change that alters what the gateway
	// serves (its settings, networks, access rules, hubs); the agent
	// refreshes its rules when the heartbeat reports a newer one.
	ConfigVersion int64
	// CertSerial is the server certificate issued at the last provisioning
	// ("" before the first); CertNotAfter its expiry, CertHostname the
	// hostname it names. A revoked, expiring or stale certificate makes the
	// heartbeat ask for reprovisioning.
	CertSerial    string
	CertNotAfter  *time.Time
	CertHostname  string
	CAFingerprint string // its group's pki.Trust.Digest when provisioned: the issuer's fingerprint while it is the only CA
	// PublicKey is a WireGuard gateway's base64 public key as its agent
	// reported it ("" until then): the agent generates its own key pair and
	// the server never sees the private half. Client configs need it.
	PublicKey     string
	LastHeartbeat *time.Time
	AgentVersion  string // reported by the agent's heartbeat
	// AgentKind is the agent serving the gateway, as it last presented
	// itself; it decides the form of the gateway's OpenVPN profiles.
	AgentKind AgentKind
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AgentKind is which agent runs a gateway host.
type AgentKind string

// The agent kinds. netkeep's own setup sends its token as X-Gateway-Token
// and serves tls-crypt; GateKey's gatekey-gateway (and its installer) send
// the token in the request body, and its OpenVPN server runs tls-auth with
// auth-user-pass-verify.
const (
	AgentNetkeep AgentKind = "netkeep"
	AgentGateKey AgentKind = "gatekey"
)

// StatusAt is g's status at now.
func (g *Gateway) StatusAt(now time.Time) Status {
	if g.LastHeartbeat != nil && now.Sub(*g.LastHeartbeat) < OfflineAfter {
		return StatusOnline
	}
	return StatusOffline
}

// Created is a new gateway with its token, which exists in clear only here:
// show it once and drop it.
type Created struct {
	Gateway *Gateway
	Token   string
}

// Network is a named CIDR behind one or more gateways of its group.
type Network struct {
	ID          string // "net-" + 16 hex digits
	GroupID     int64
	Name        string // unique within the group
	Description string
	CIDR        netip.Prefix // masked
	GatewayIDs  []string     // sorted
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RuleProtocol is the IP protocol an access rule admits.
type RuleProtocol string

// The rule protocols; Ports apply to tcp and udp only.
const (
	RuleAny  RuleProtocol = "any"
	RuleTCP  RuleProtocol = "tcp"
	RuleUDP  RuleProtocol = "udp"
	RuleICMP RuleProtocol = "icmp"
)

// PortRange is an inclusive range of ports, From <= To.
type PortRange struct {
	From, To uint16
}

// Rule is an access rule: the listed users, and every member of the listed
// groups, may reach Destination (inside the network's CIDR) over Protocol
// and Ports. Nothing is reachable without a rule (default deny).
type Rule struct {
	ID          string // "rule-" + 16 hex digits
	GroupID     int64  // the network's group
	Name        string
	Description string
	NetworkID   string
	Destination netip.Prefix // masked, within the network's CIDR
	Protocol    RuleProtocol
	Ports       []PortRange // empty: every port
	UserIDs     []int64     // sorted
	GroupIDs    []int64     // sorted; only the rule's own group may be named
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SpokeKind is what a mesh hub links.
type SpokeKind string

// The spoke kinds.
const (
	SpokeGateway SpokeKind = "gateway"
	SpokeNetwork SpokeKind = "network"
)

// Spoke is one site a hub links: a gateway or a network of the hub's group.
type Spoke struct {
	Kind SpokeKind
	ID   string
}

// Hub is a mesh hub: a gateway that links sites, its spokes.
type Hub struct {
	ID          string // "hub-" + 16 hex digits
	GroupID     int64
	Name        string
	Description string
	GatewayID   string  // the hub itself
	Spokes      []Spoke // sorted by kind, then id
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Session is one VPN connection through a gateway, reported by its agent.
type Session struct {
	ID             string // "sess-" + 16 hex digits
	GatewayID      string
	GroupID        int64 // the gateway's group
	UserID         int64
	Username       string
	CommonName     string // of the client certificate
	Serial         string // of the client certificate
	ClientIP       string // the client's public address as the gateway saw it
	VPNAddress     string // the tunnel address assigned to it
	ConnectedAt    time.Time
	DisconnectedAt *time.Time // nil while connected
	BytesIn        int64      // reported at disconnection
	BytesOut       int64
}

// Active reports whether s is still connected.
func (s *Session) Active() bool { return s.DisconnectedAt == nil }

// Grant is one destination a client may reach: a prefix, a protocol and
// ports, from the access rules that name the client's user.
type Grant struct {
	RuleID      string
	NetworkID   string
	Destination netip.Prefix
	Protocol    RuleProtocol
	Ports       []PortRange
}
