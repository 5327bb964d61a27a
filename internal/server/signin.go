package server

import (
	"time"

	"netkeep/internal/config"
	"netkeep/internal/ratelimit"
)

// loginFailures is the failed sign-ins one client address may make per
// minute (--auth-failure-limit); zero, in a Config not built by Load: the
// Nekzus handlers' own default.
func loginFailures(c *config.Config) ratelimit.Limit {
	if c.AuthFailureLimit <= 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Max: c.AuthFailureLimit, Window: time.Minute}
}
