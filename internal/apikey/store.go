package apikey

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// Store is apikey's view of persistence; internal/store binds it with
// store.For[apikey.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the api_keys table. Lookups return a not_found
// fault for a missing key.
type Tx interface {
	audit.Writer

	// CreateAPIKey inserts k as given (ID, Hash and CreatedAt included). A
	// duplicate ID or Hash is a conflict.
	CreateAPIKey(ctx context.Context, k *Key) error
	APIKeyByID(ctx context.Context, id string) (*Key, error)
	APIKeyByHash(ctx context.Context, hash [32]byte) (*Key, error)
	// ListAPIKeys returns the keys matching f, newest first.
	ListAPIKeys(ctx context.Context, f Filter) ([]*Key, error)
	// RevokeAPIKey sets revoked_at if it is not set yet; not_found if no
	// unrevoked key has id.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	DeleteAPIKey(ctx context.Context, id string) error
	// TouchAPIKeys raises last_used_at to the given times (never lowers it);
	// ids that no longer exist are ignored.
	TouchAPIKeys(ctx context.Context, used map[string]time.Time) error
}

// Filter selects keys for a listing; zero fields match everything.
type Filter struct {
	GroupID   int64
	CreatedBy int64
}

// UserLookup reports a key creator's current state; identity implements it,
// usually behind a cache. It returns a not_found fault for a deleted user.
//
// The service caches the answer per key until a "user" event names the user,
// so UserState must not answer from state older than the event that
// announced a change (a cache in front of it must be invalidated first, or
// read through).
type UserLookup interface {
	UserState(ctx context.Context, userID int64) (role authz.Role, groupID int64, username string, active bool, err error)
}
