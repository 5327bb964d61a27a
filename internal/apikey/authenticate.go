package apikey

import (
	"context"
	"fmt"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// Authentication failures. They are shared values: callers must not modify them.
var (
	errInvalidKey    = fault.New(fault.Unauthorized, "invalid API key")
	errRevoked       = fault.New(fault.Unauthorized, "API key revoked")
	errExpired       = fault.New(fault.Unauthorized, "API key expired")
	errOwnerInactive = fault.New(fault.Unauthorized, "API key owner is no longer active")
	errOwnerMoved    = fault.New(fault.Unauthorized, "API key owner is no longer in the key's group")
	errRateLimited   = fault.New(fault.RateLimited, "API key rate limit exceeded")
)

// Authenticate resolves a presented secret to the principal it stands for and
// counts the request against the key's rate limits.
//
// The principal acts for the key's creator with the creator's current role,
// within the key's group and scopes; it is shared between requests and must
// not be modified. A key dies with its creator's access: a deleted or deactivated
// creator, or one who left the key's group, makes it unauthorized.
//
// Once a key is cached this does no store access and no writes: SHA-256, a
// map lookup and the limiter. Errors: unauthorized (malformed, unknown,
// revoked or expired key; inactive owner), rate_limited (with the Decision
// that denied it, for Retry-After and X-RateLimit-* headers), unavailable
// (the store or user lookup failed on a cache miss).
func (s *Service) Authenticate(ctx context.Context, secret string) (*authz.Principal, ratelimit.Decision, error) {
	if !WellFormed(secret) {
		return nil, ratelimit.Decision{}, errInvalidKey
	}
	h := Hash(secret)
	now := s.now()
	e, err := s.lookup(ctx, h, now.UnixNano())
	if err != nil {
		return nil, ratelimit.Decision{}, err
	}
	if e.err != nil {
		return nil, ratelimit.Decision{}, e.err
	}
	if exp := e.key.ExpiresAt; exp != nil && !now.Before(*exp) {
		return nil, ratelimit.Decision{}, errExpired
	}
	s.cache.touch(e, now.UnixNano())
	limits := e.key.limits()
	d := s.limiter.Allow(e.key.ID, limits[0], limits[1])
	if !d.Allowed {
		return nil, d, errRateLimited
	}
	// Entries are immutable once cached, so every request of this key shares
	// one principal (no allocation); callers must not modify it.
	return &e.principal, d, nil
}

// lookup returns the cached entry for h, loading it on a miss or after the
// cache TTL. When a reload fails the stale entry is used, so a store outage
// does not lock out keys that were working.
func (s *Service) lookup(ctx context.Context, h [32]byte, now int64) (*entry, error) {
	cached := s.cache.get(h)
	if cached != nil && now-cached.loaded < int64(s.cacheTTL) {
		return cached, nil
	}
	if cached == nil && s.cache.unknown(h, now) {
		return nil, errInvalidKey
	}
	e, err := s.flights.do(ctx, h, func() (*entry, error) { return s.load(ctx, h, now) })
	if err != nil && cached != nil && fault.CodeOf(err) != fault.Unauthorized {
		s.log.Warn("reloading API key; using the cached copy", "key", cached.key.ID, "error", err)
		return cached, nil
	}
	return e, err
}

// load reads the key with hash h and its creator's state, and caches them.
func (s *Service) load(ctx context.Context, h [32]byte, now int64) (*entry, error) {
	gen := s.cache.generation()
	k, err := s.store.Read().APIKeyByHash(ctx, h)
	if fault.Is(err, fault.NotFound) {
		s.cache.remember(h, now, now+int64(negativeTTL))
		return nil, errInvalidKey
	}
	if err != nil {
		return nil, fault.New(fault.Unavailable, "API keys cannot be checked right now").Wrap(err)
	}
	e := &entry{hash: h, key: k, loaded: now}
	if err := s.resolve(ctx, e); err != nil {
		return nil, err
	}
	if s.cache.unsettled(k.CreatedBy, now) && s.cacheTTL > settleTime {
		e.loaded = now - int64(s.cacheTTL-settleTime) // expires settleTime from now
	}
	s.cache.put(e, gen)
	return e, nil
}

// resolve fills in e's principal, or the reason it cannot authenticate.
func (s *Service) resolve(ctx context.Context, e *entry) error {
	k := e.key
	if k.RevokedAt != nil {
		e.err = errRevoked
		return nil
	}
	role, groupID, username, active, err := s.users.UserState(ctx, k.CreatedBy)
	switch {
	case fault.Is(err, fault.NotFound), err == nil && !active:
		e.err = errOwnerInactive
		return nil
	case err != nil:
		return fault.New(fault.Unavailable, "API key owner cannot be checked right now").Wrap(err)
	case groupID != k.GroupID:
		e.err = errOwnerMoved
		return nil
	}
	scopes, err := authz.ParseScopes(k.Grants)
	if err != nil {
		return fmt.Errorf("API key %s has stored grants that no longer parse: %w", k.ID, err)
	}
	e.principal = authz.Principal{
		Kind:     authz.KindAPIKey,
		UserID:   k.CreatedBy,
		Username: username,
		Role:     role,
		GroupID:  k.GroupID,
		Scopes:   scopes,
		KeyID:    k.ID,
	}
	return nil
}
