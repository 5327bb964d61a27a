package identity

import (
	"sync"
	"time"
)

// verifiedTokens remembers access tokens whose signature and claims were
// already checked, so a client presenting the same token on every request
// pays for JSON decoding and HMAC once. A token is immutable, so its checked
// claims stay true until it expires; revocation and the user's current state
// are still checked on every request. Bounded: when full it starts over.
type verifiedTokens struct {
	mu      sync.RWMutex
	entries map[string]*AccessClaims
}

const maxVerifiedTokens = 50_000

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{entries: make(map[string]*AccessClaims)}
}

// get returns the claims of token if it was verified and is unexpired at now.
func (v *verifiedTokens) get(token string, now time.Time) *AccessClaims {
	v.mu.RLock()
	c := v.entries[token]
	v.mu.RUnlock()
	if c == nil || !now.Before(c.ExpiresAt.Time) {
		return nil
	}
	return c
}

func (v *verifiedTokens) put(token string, c *AccessClaims) {
	v.mu.Lock()
	if len(v.entries) >= maxVerifiedTokens {
		v.entries = make(map[string]*AccessClaims, len(v.entries)/2)
	}
	v.entries[token] = c
	v.mu.Unlock()
}
