package netkey_test

import (
	"net/http"
	"strconv"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// Every documented auth response carries the fields of the seed's example.
func TestAuthShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "shape", password, identity.GroupAdmin, "acme")
		loginRes := e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "shape", "password": password})
		s := login(t, e, "shape", password)
		tests := []struct {
			name   string
			do     func() *servertest.Response
			status int
			golden string
		}{
			{"200/login", func() *servertest.Response { return loginRes }, 200, "auth_login.json"},
			{"200/me", func() *servertest.Response { return e.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(s.token)...) }, 200, "auth_me.json"},
			{"200/refresh", func() *servertest.Response {
				return e.Do(t, "POST", "/api/auth/refresh", nil, withCookie(s.refresh)...)
			}, 200, "auth_refresh.json"},
			{"200/logout", func() *servertest.Response {
				return e.Do(t, "POST", "/api/auth/logout", nil, servertest.Bearer(s.token)...)
			}, 200, "auth_logout.json"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.do()
				if r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", r.Status, tc.status, r.Raw)
				}
				apitest.AssertShape(t, r.Raw, "testdata/seed/"+tc.golden)
			})
		}
	})
}

// The lockout is the account's: failures under the username lock the email
// too, the answer is 429 in NetKey's envelope with Retry-After, and the
// right password does not get through until it passes.
func TestLockoutPerAccount(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "buser", password, identity.RoleUser, "acme")
		for i := 0; i < 5; i++ {
			r := e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "buser", "password": "wrong-password"})
			if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
				t.Fatalf("attempt %d: %d %s", i, r.Status, r.Raw)
			}
		}
		tests := []struct{ name, login string }{
			{"429/username", "buser"},
			{"429/email", "buser@example.com"},
			{"429/email in upper case", "BUSER@EXAMPLE.COM"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/auth/login", map[string]any{"username": tc.login, "password": password})
				wantNetKeyError(t, r, http.StatusTooManyRequests, "TOO_MANY_ATTEMPTS")
				secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
				if err != nil || secs < 1 || secs > 30 {
					t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
				}
				if refreshCookie(t, r) != nil {
					t.Fatal("a locked login set a refresh cookie")
				}
			})
		}
		// Another account is not affected.
		e.CreateUser(t, "cuser", password, identity.RoleUser, "acme")
		login(t, e, "cuser", password)
	})
}
