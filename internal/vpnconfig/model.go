package vpnconfig

import (
	"net/netip"
	"time"

	"netkeep/internal/pki"
)

// Protocol is the VPN software a configuration is for; it matches the
// gateway's VPN type.
type Protocol string

// The protocols.
const (
	OpenVPN   Protocol = "openvpn"
	WireGuard Protocol = "wireguard"
)

// Config is the record of one generated client configuration. It never
// holds the private key in clear; KeySealed is erased on revocation.
//
// An OpenVPN configuration names its client certificate (Serial); a
// WireGuard one has none and records the client's public key and tunnel
// address instead (WireGuardKey, Address).
type Config struct {
	ID         string // "cfg-" + 16 hex digits
	UserID     int64
	GroupID    int64 // the gateway's group
	GatewayID  string
	Protocol   Protocol
	Serial     pki.Serial // the client certificate; "" for WireGuard
	CommonName string     // the certificate's subject; the username for WireGuard
	// KeySealed is the sealed private key: PKCS #8 PEM for OpenVPN, the
	// base64 Curve25519 key for WireGuard; nil once revoked.
	KeySealed []byte
	// WireGuardKey is the client's base64 public key (WireGuard only).
	WireGuardKey string
	// Address is the client's tunnel address, a /32 inside the gateway's
	// VPN subnet, unique among the gateway's unexpired, unrevoked
	// configurations (WireGuard only).
	Address      netip.Prefix
	CreatedAt    time.Time
	ExpiresAt    time.Time // the certificate's NotAfter (OpenVPN) or CreatedAt + the TTL: the download link dies with it
	Downloads    int
	LastDownload *time.Time
	RevokedAt    *time.Time
}

// Revoked reports whether c has been revoked.
func (c *Config) Revoked() bool { return c.RevokedAt != nil }

// Generated is a new configuration with the path it is downloaded from.
type Generated struct {
	Config      *Config
	DownloadURL string
	FileName    string // the name the download suggests
}

// File is a rendered configuration ready to send.
type File struct {
	Name        string // suggested file name, e.g. "office-cfg-0123456789abcdef.ovpn"
	ContentType string
	Body        []byte
}

// Peer is one WireGuard client as its gateway configures it.
type Peer struct {
	ConfigID   string
	UserID     int64
	PublicKey  string       // base64
	AllowedIPs netip.Prefix // the client's tunnel address, /32
	ExpiresAt  time.Time
}

// PeerSet is what a WireGuard gateway needs to configure its interface: its
// own tunnel address and port, and its active clients.
type PeerSet struct {
	GatewayID     string
	ConfigVersion int64
	PublicKey     string       // the gateway's, as it reported it
	Address       netip.Prefix // the gateway's tunnel address (gateway.Gateway.TunnelAddress)
	ListenPort    int
	Peers         []Peer // by tunnel address
}

// Query selects configurations for an administrator's listing.
type Query struct {
	GroupID   int64 // 0: every group (SUPER_ADMIN)
	UserID    int64 // 0: every user
	GatewayID string
	Limit     int
	Offset    int
}

// target names a configuration in audit entries.
func target(id string) string { return "vpn-config:" + id }
