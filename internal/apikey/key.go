package apikey

import (
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/ratelimit"
)

// Key is a stored API key. The secret itself is never stored: only Prefix,
// which is shown to help people recognise a key, and Hash.
type Key struct {
	ID            string   // "key_" + 16 lowercase hex digits
	Name          string   // 1 to MaxNameLen characters
	Prefix        string   // the secret's first PrefixLen characters, e.g. "nk_a1B2c3D"
	Hash          [32]byte // SHA-256 of the whole secret
	Format        Format   // the secret's shape, chosen by the dialect it was created through
	Scopes        []string // the scope names as given at creation, in their product's vocabulary
	Grants        []string // netkeep's actions those names grant (within the creator's rights), sorted
	GroupID       int64    // the creator's group at creation
	CreatedBy     int64    // the creating user's id
	CreatedByName string   // the creating user's username, filled on reads
	ExpiresAt     *time.Time
	RevokedAt     *time.Time
	LastUsedAt    *time.Time // to the second; may lag the store by one flush interval
	RatePerHour   int
	RatePerMinute int
	CreatedAt     time.Time
	// ProvisionedBy is the administrator who created the key through an
	// administrators' API: for a user of its group (CreateFor), or for
	// itself (Create with NewKey.Administered); 0 when a user created the
	// key through its own key API.
	ProvisionedBy int64
}

// NewKey is what a caller asks for. Zero rates mean the defaults.
type NewKey struct {
	Name string
	// Scopes are names of Vocabulary. An empty Vocabulary is the rule of
	// the shared /api/v1/apikeys: Nekzus's if every name is a Nekzus scope,
	// else netkeep's own (NetKey's names).
	Scopes     []string
	Vocabulary authz.Vocabulary
	// Format is the secret's shape; empty means the vocabulary's own
	// (nekzus_ for Nekzus, nr_live_ for NetRecon, nk_ otherwise).
	Format        Format
	ExpiresAt     *time.Time
	RatePerHour   int
	RatePerMinute int
	// Administered: the key is created through an administrators' API
	// (GateKey's /api/v1/admin/api-keys), which only an administrator may
	// use (authz.Administer); the key records its creator as ProvisionedBy.
	Administered bool
}

// Limits on keys, as the NetKey document states them.
const (
	MaxNameLen           = 100
	DefaultRatePerHour   = 1000
	MaxRatePerHour       = 10000
	DefaultRatePerMinute = 100
	MaxRatePerMinute     = 500
)

// target names k in audit entries.
func (k *Key) target() string { return "apikey:" + k.ID }

// limits are k's rate limits, tightest window first.
func (k *Key) limits() [2]ratelimit.Limit {
	return [2]ratelimit.Limit{
		{Max: k.RatePerMinute, Window: time.Minute},
		{Max: k.RatePerHour, Window: time.Hour},
	}
}
