package vpnconfig

import (
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
type Config struct {
	ID           string // "cfg-" + 16 hex digits
	UserID       int64
	GroupID      int64 // the gateway's group
	GatewayID    string
	Protocol     Protocol
	Serial       pki.Serial // the client certificate
	CommonName   string
	KeySealed    []byte // sealed PKCS #8 PEM; nil once revoked
	CreatedAt    time.Time
	ExpiresAt    time.Time // the certificate's NotAfter: the download link dies with it
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
}

// File is a rendered configuration ready to send.
type File struct {
	Name        string // suggested file name, e.g. "office-cfg-0123456789abcdef.ovpn"
	ContentType string
	Body        []byte
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
