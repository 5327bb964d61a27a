package api

import (
	"net/http"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// SessionLimits are the per-user budget of requests made with a user's
// access token (JWT): the NetKey seed's highest API-key limits, so a
// session never gets less than the best-provisioned key. Every such
// response carries the X-RateLimit-* headers, as API keys' do.
var SessionLimits = []ratelimit.Limit{{Max: 500, Window: time.Minute}, {Max: 10_000, Window: time.Hour}}

// limitSession counts one request of a session principal against its
// user's budget when the Authenticator has a session limiter, writing the
// X-RateLimit-* headers when w is not nil; over the budget it returns
// rate_limited (and the headers carry Retry-After).
func (a *Authenticator) limitSession(w http.ResponseWriter, p *authz.Principal) error {
	if a.Sessions == nil {
		return nil
	}
	d := a.Sessions.Allow(PrincipalKey(p), SessionLimits...)
	if w != nil {
		setRateHeaders(w, d)
	}
	if !d.Allowed {
		return fault.New(fault.RateLimited, "too many requests; retry later")
	}
	return nil
}
