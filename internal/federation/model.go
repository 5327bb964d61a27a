package federation

import (
	"time"
)

// Peer is another netkeep instance this one trusts.
type Peer struct {
	// ID is "peer_" and the first 12 hex digits of the peer's CA
	// fingerprint: the same on both sides of a link and across restarts.
	ID   string
	Name string
	// URL is the peer's federation listener, https://host:port.
	URL string
	// CAFingerprint is the pin: the lowercase hex SHA-256 of the peer's CA
	// certificate (DER). Nothing else is accepted from or as this peer.
	CAFingerprint string
	Status        string // StatusConnected or StatusDisconnected
	LastError     string // why the last sync failed; "" after a success
	LastSyncAt    *time.Time
	CreatedAt     time.Time
	Apps          int // how many apps it shares (as last synced)
}

// The peer statuses: the outcome of the last sync with it.
const (
	StatusConnected    = "connected"
	StatusDisconnected = "disconnected"
)

// Token is a one-time join token as stored: only the SHA-256 of its secret.
type Token struct {
	ID         string
	SecretHash []byte
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	UsedBy     string // the peer that redeemed it
}

// SharedApp is an app as a peer shares it: what the other side needs to
// list it and to apply the route's access rules before forwarding.
type SharedApp struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Icon      string   `json:"icon"`
	Tags      []string `json:"tags"`
	Auth      string   `json:"auth"`
	Scopes    []string `json:"scopes"`
	WebSocket bool     `json:"websocket"`
	Health    string   `json:"health"`
}

// RemoteApp is a peer's shared app as stored here.
type RemoteApp struct {
	PeerID   string
	App      SharedApp
	SyncedAt time.Time
}

// JoinRequest is what a joining instance sends with a token's secret.
type JoinRequest struct {
	Secret string `json:"secret"`
	Name   string `json:"name"`
	URL    string `json:"url"`
}

// JoinAnswer is the token holder's reply: who it is.
type JoinAnswer struct {
	PeerID string `json:"peer_id"`
	Name   string `json:"name"`
}

// Shared is a peer's answer to a catalog request.
type Shared struct {
	PeerID string      `json:"peer_id"`
	Name   string      `json:"name"`
	Apps   []SharedApp `json:"apps"`
}

// Status is the federation's state as GET /api/v1/federation/status shows it.
type Status struct {
	Enabled       bool
	LocalPeerID   string
	LocalPeerName string
	PeerCount     int
	PeersByStatus map[string]int
	Running       bool
}

// StoredIdentity is the federation listener's certificate as stored for
// one set of names: reused at the next start while it is valid and issued
// by the active CA.
type StoredIdentity struct {
	Names         string // the certificate's DNS names and IPs, sorted, comma-separated
	CAFingerprint string // of the CA that issued it
	CertPEM       string
	KeySealed     []byte // the private key (PKCS #8 PEM), sealed with the server secret
	NotAfter      time.Time
}
