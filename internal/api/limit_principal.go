package api

import (
	"net/http"
	"strconv"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// LimitPrincipal wraps next with a per-caller limit for routes that run
// after authentication (Authenticated, or Custom ones that attach their own
// principal through key): requests of one user share a budget whether they
// come with a session or an API key; other credentials (the master key)
// are counted by their actor. Over the limit the caller gets 429 with
// Retry-After in the path's dialect envelope; every answer carries the
// X-RateLimit-* headers.
func LimitPrincipal(l *ratelimit.Limiter, family string, lim ratelimit.Limit, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !AllowKey(w, r, l, family+"|"+PrincipalKey(PrincipalFrom(r.Context())), lim) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// PrincipalKey names p's rate-limit budget: its user when it has one,
// otherwise its actor.
func PrincipalKey(p *authz.Principal) string {
	switch {
	case p == nil:
		return "anonymous"
	case p.UserID != 0 && p.ActsForUser():
		return "user:" + strconv.FormatInt(p.UserID, 10)
	}
	return p.Actor()
}

// AllowKey counts one request of key against lim, writing the X-RateLimit-*
// headers; over the limit it answers 429 in the path's dialect envelope and
// returns false.
func AllowKey(w http.ResponseWriter, r *http.Request, l *ratelimit.Limiter, key string, lim ratelimit.Limit) bool {
	d := l.Allow(key, lim)
	setRateHeaders(w, d)
	if !d.Allowed {
		Error(w, r, fault.New(fault.RateLimited, "too many requests; retry later"))
		return false
	}
	return true
}
