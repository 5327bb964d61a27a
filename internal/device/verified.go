package device

import (
	"sync"
	"time"
)

// verifiedTokens remembers device tokens whose signature and claims were
// checked, so a device presenting the same token on every request pays
// for JSON decoding and HMAC once. A token is immutable, so its claims stay
// true until it expires; the device's state (revocation, pairing) is still
// checked on every request. Bounded: when full it starts over.
type verifiedTokens struct {
	mu      sync.RWMutex
	entries map[string]*claims
}

const maxVerifiedTokens = 50_000

func (v *verifiedTokens) get(token string, now time.Time) *claims {
	v.mu.RLock()
	c := v.entries[token]
	v.mu.RUnlock()
	if c == nil || !now.Before(c.ExpiresAt.Time) {
		return nil
	}
	return c
}

func (v *verifiedTokens) put(token string, c *claims) {
	v.mu.Lock()
	if v.entries == nil || len(v.entries) >= maxVerifiedTokens {
		v.entries = make(map[string]*claims)
	}
	v.entries[token] = c
	v.mu.Unlock()
}
