package federation

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// Store is the federation's view of persistence; internal/store binds it
// with store.For[federation.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the federation tables. Lookups return a
// not_found fault for a missing row.
type Tx interface {
	audit.Writer

	InsertFederationToken(ctx context.Context, t *Token) error
	// UseFederationToken marks the token whose secret hashes to hash as
	// used by peerID at at, if it is unused and unexpired at at; otherwise
	// not_found. Two redemptions of one token cannot both succeed.
	UseFederationToken(ctx context.Context, hash []byte, peerID string, at time.Time) error

	// SaveFederationPeer inserts p or, for a known id, updates its name,
	// URL and fingerprint (a peer that joins again).
	SaveFederationPeer(ctx context.Context, p *Peer) error
	FederationPeer(ctx context.Context, id string) (*Peer, error)
	// FederationPeers returns every peer by name, with its app count.
	FederationPeers(ctx context.Context) ([]*Peer, error)
	// DeleteFederationPeer removes the peer and its apps.
	DeleteFederationPeer(ctx context.Context, id string) error
	// SetFederationPeerState records a sync's outcome.
	SetFederationPeerState(ctx context.Context, id, status, lastError string, at time.Time) error
	// ReplaceFederationApps makes apps the peer's shared apps.
	ReplaceFederationApps(ctx context.Context, peerID string, apps []RemoteApp) error
	// FederationApps returns the apps of every existing peer.
	FederationApps(ctx context.Context) ([]RemoteApp, error)

	// FederationIdentity returns the certificate stored for names, or
	// not_found.
	FederationIdentity(ctx context.Context, names string) (*StoredIdentity, error)
	// SaveFederationIdentity stores id, replacing the one of its names.
	SaveFederationIdentity(ctx context.Context, id *StoredIdentity, at time.Time) error
}
