package device

import (
	"slices"
	"time"
)

// Device is one paired device.
type Device struct {
	ID         string // chosen by the device ("my-iphone-123")
	GroupID    int64
	UserID     int64 // who made the pairing code; 0 for local trust
	Name       string
	Model      string
	Platform   string
	PushToken  []byte // sealed; never shown
	Scopes     []string
	Epoch      string // changes on every pairing; tokens of an older epoch are dead
	CreatedAt  time.Time
	PairedAt   time.Time
	LastSeenAt *time.Time
	RevokedAt  *time.Time
}

// Platforms are the device platforms Nekzus documents.
var Platforms = []string{"ios", "android", "web", "desktop", "linux", "macos", "windows"}

// ValidPlatform reports whether p is a documented platform.
func ValidPlatform(p string) bool { return slices.Contains(Platforms, p) }

// DefaultScopes are what a paired device may do: read the app catalog and
// listen to events, the scopes of Nekzus's example device.
var DefaultScopes = []string{"read:catalog", "read:events"}

// Info describes this server to a pairing device.
type Info struct {
	Name         string   // "netkeep @ host"
	NexusID      string   // stable per installation
	Capabilities []string // what the device may use
	SPKIPins     []string // "sha256/<base64>" of the served TLS key; empty over plain HTTP
}

// Redemption is what a redeemed pairing code hands the device.
type Redemption struct {
	BaseURL        string
	BootstrapToken string
	ExpiresAt      time.Time
	Info
}

// NewDevice is what a device says about itself when it pairs.
type NewDevice struct {
	ID        string
	Model     string
	Platform  string
	PushToken string
	Name      string // optional; the model when empty
}

// Token is an issued device token.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
	Scopes      []string
	DeviceID    string
}

// Update is a change of a device's metadata; nil fields stay.
type Update struct {
	Name *string
}

// Page selects part of a listing: Limit < 0 means no limit.
type Page struct {
	Limit  int
	Offset int
}
