package netkey_test

import (
	"strconv"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// Requests made with a user's access token carry the X-RateLimit-* headers
// on every dialect's routes, counting down one budget per user.
func TestSessionRateHeaders(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "rl", password, identity.GroupAdmin, "acme")
		s := login(t, e, "rl", password)
		paths := []struct{ name, path string }{
			{"netkey me", "/api/auth/me"},
			{"nekzus me", "/api/v1/auth/me"},
			{"gatekey session", "/api/v1/auth/session"},
			{"netkey users", "/api/v1/users"},
			{"own groups", "/api/v1/groups"},
		}
		last := -1
		for _, p := range paths {
			t.Run("200/"+p.name, func(t *testing.T) {
				r := e.Do(t, "GET", p.path, nil, servertest.Bearer(s.token)...)
				if r.Status != 200 {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				limit, err1 := strconv.Atoi(r.Header.Get("X-RateLimit-Limit"))
				remaining, err2 := strconv.Atoi(r.Header.Get("X-RateLimit-Remaining"))
				reset, err3 := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
				if err1 != nil || err2 != nil || err3 != nil || limit <= 0 || reset <= 0 {
					t.Fatalf("rate headers: %v", r.Header)
				}
				if last >= 0 && remaining != last-1 {
					t.Fatalf("remaining = %d after %d: not one budget", remaining, last)
				}
				last = remaining
			})
		}
	})
}
