package api

import (
	"net/http"

	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// LoginLimit is the per-source-IP budget of login and setup endpoints.
var LoginLimit = ratelimit.Limit{Max: 50, Window: 60e9}

// LimitIP wraps next with a per-client-address limit; over it the caller gets
// 429 with Retry-After in the path's dialect envelope. Every answer carries the
// X-RateLimit-* headers.
func LimitIP(l *ratelimit.Limiter, family string, lim ratelimit.Limit, next http.Handler) http.Handler {
	return LimitBy(l, func(r *http.Request) string { return family + "|" + ClientIP(r.Context()) }, lim, errTooMany, next)
}

var errTooMany = fault.New(fault.RateLimited, "too many requests; retry later")

// LimitBy wraps next with a limit per key(r); over it the caller gets over
// (a rate_limited fault) with Retry-After in the path's dialect envelope.
// Every answer carries the X-RateLimit-* headers.
func LimitBy(l *ratelimit.Limiter, key func(*http.Request) string, lim ratelimit.Limit, over *fault.Error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := l.Allow(key(r), lim)
		setRateHeaders(w, d)
		if !d.Allowed {
			Error(w, r, over)
			return
		}
		next.ServeHTTP(w, r)
	})
}
