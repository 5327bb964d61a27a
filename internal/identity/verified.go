package identity

import (
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifiedTokens remembers tokens whose signature and claims were already
// checked, so a client presenting the same token on every request pays for
// JSON decoding and HMAC once. A token is immutable, so its checked claims
// stay true until they expire; whatever can change (revocation, the
// subject's current state) the caller still checks on every request.
// Bounded: when full it starts over. The zero value is ready to use; it is
// safe for concurrent use. Access tokens and device tokens both use it.
type VerifiedTokens[C jwt.Claims] struct {
	mu      sync.RWMutex
	entries map[string]C
}

const maxVerifiedTokens = 50_000

// Get returns the claims of token if it was verified and they are
// unexpired at now.
func (v *VerifiedTokens[C]) Get(token string, now time.Time) (C, bool) {
	v.mu.RLock()
	c, ok := v.entries[token]
	v.mu.RUnlock()
	if !ok {
		return c, false
	}
	if exp, err := c.GetExpirationTime(); err != nil || exp == nil || !now.Before(exp.Time) {
		var zero C
		return zero, false
	}
	return c, true
}

// Put remembers token's verified claims c.
func (v *VerifiedTokens[C]) Put(token string, c C) {
	v.mu.Lock()
	if v.entries == nil || len(v.entries) >= maxVerifiedTokens {
		v.entries = make(map[string]C, len(v.entries)/2)
	}
	v.entries[token] = c
	v.mu.Unlock()
}
