package netkey_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		u := e.CreateUser(t, "alice", password, identity.GroupAdmin, "acme")
		tests := []struct {
			name     string
			body     any
			status   int
			code     string        // NetKey error code
			cookieTT time.Duration // expected refresh cookie lifetime
		}{
			{name: "200/username", body: map[string]any{"username": "alice", "password": password}, status: 200, cookieTT: 14 * 24 * time.Hour},
			{name: "200/email", body: map[string]any{"username": "alice@example.com", "password": password}, status: 200, cookieTT: 14 * 24 * time.Hour},
			{name: "200/remember_me", body: map[string]any{"username": "alice", "password": password, "remember_me": true}, status: 200, cookieTT: 30 * 24 * time.Hour},
			{name: "400/bad json", body: `{"username": "alice",`, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/wrong type", body: `{"username": 7, "password": "x"}`, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/missing password", body: map[string]any{"username": "alice"}, status: 400, code: "VALIDATION_ERROR"},
			{name: "401/wrong password", body: map[string]any{"username": "alice", "password": "not-the-password"}, status: 401, code: "INVALID_CREDENTIALS"},
			{name: "401/unknown user", body: map[string]any{"username": "nobody", "password": password}, status: 401, code: "INVALID_CREDENTIALS"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/auth/login", tc.body)
				if tc.status != http.StatusOK {
					wantNetKeyError(t, r, tc.status, tc.code)
					if refreshCookie(t, r) != nil {
						t.Fatal("failed login set a refresh cookie")
					}
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				wantKeys(t, "login", r.JSON, "success", "token", "expires_in", "user")
				if r.JSON["success"] != true || r.JSON["expires_in"] != float64(3600) {
					t.Fatalf("login = %s", r.Raw)
				}
				if tok, _ := r.JSON["token"].(string); strings.Count(tok, ".") != 2 {
					t.Fatalf("token %q is not a JWT", tok)
				}
				user := r.JSON["user"].(map[string]any)
				wantKeys(t, "user", user, "id", "username", "full_name", "role", "group_id", "group_name")
				if user["id"] != float64(u.ID) || user["username"] != "alice" || user["role"] != "GROUP_ADMIN" ||
					user["group_id"] != float64(u.GroupID) || user["group_name"] != "acme" {
					t.Fatalf("user = %v", user)
				}
				c := refreshCookie(t, r)
				if c == nil || c.Value == "" {
					t.Fatalf("no refresh cookie: %v", r.Header.Values("Set-Cookie"))
				}
				if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/api/auth" {
					t.Fatalf("cookie attributes: %q", r.Header.Get("Set-Cookie"))
				}
				if d := time.Duration(c.MaxAge)*time.Second - tc.cookieTT; d > 0 || d < -time.Minute {
					t.Fatalf("cookie Max-Age = %d, want about %v", c.MaxAge, tc.cookieTT)
				}
			})
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "bob", password, identity.RoleUser, "acme")

		t.Run("401/no cookie", func(t *testing.T) {
			wantNetKeyError(t, e.Do(t, "POST", "/api/auth/refresh", nil), 401, "")
		})
		t.Run("401/unknown cookie", func(t *testing.T) {
			r := e.Do(t, "POST", "/api/auth/refresh", nil, withCookie("rt_forged")...)
			wantNetKeyError(t, r, 401, "")
			if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 {
				t.Fatalf("rejected cookie not cleared: %v", r.Header.Values("Set-Cookie"))
			}
		})

		s := login(t, e, "bob", password)
		r := e.Do(t, "POST", "/api/auth/refresh", nil, withCookie(s.refresh)...)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "refresh", r.JSON, "token", "expires_in")
		if r.JSON["expires_in"] != float64(3600) {
			t.Fatalf("expires_in = %v", r.JSON["expires_in"])
		}
		rotated := refreshCookie(t, r)
		if rotated == nil || rotated.Value == s.refresh || !rotated.HttpOnly || !rotated.Secure || rotated.Path != "/api/auth" {
			t.Fatalf("refresh did not rotate the cookie: %v", r.Header.Values("Set-Cookie"))
		}
		access := r.JSON["token"].(string)
		if me := e.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(access)...); me.Status != http.StatusOK {
			t.Fatalf("me with refreshed token: %d %s", me.Status, me.Raw)
		}

		// Presenting the rotated-out cookie is theft: 401, and the whole
		// family dies, including the cookie just issued and its access token.
		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/refresh", nil, withCookie(s.refresh)...), 401, "TOKEN_REUSED")
		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/refresh", nil, withCookie(rotated.Value)...), 401, "")
		wantNetKeyError(t, e.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(access)...), 401, "")
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "carol", password, identity.RoleUser, "acme")
		s := login(t, e, "carol", password)
		other := login(t, e, "carol", password)

		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/logout", nil), 401, "")
		r := e.Do(t, "POST", "/api/auth/logout", nil, servertest.Bearer(s.token)...)
		if r.Status != http.StatusOK {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "logout", r.JSON, "success")
		if r.JSON["success"] != true {
			t.Fatalf("logout = %s", r.Raw)
		}
		const cleared = "refresh_token=; Path=/api/auth; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
		if got := r.Header.Get("Set-Cookie"); got != cleared {
			t.Fatalf("Set-Cookie = %q, want %q", got, cleared)
		}
		wantNetKeyError(t, e.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(s.token)...), 401, "")
		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/refresh", nil, withCookie(s.refresh)...), 401, "")

		// Another session of the same user is untouched.
		if me := e.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(other.token)...); me.Status != http.StatusOK {
			t.Fatalf("other session after logout: %d %s", me.Status, me.Raw)
		}
	})
}

func TestMe(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		u := e.CreateUser(t, "dave", password, identity.GroupAdmin, "acme")
		s := login(t, e, "dave", password)

		expired, err := e.Server.Identity.Signer().Sign(&identity.AccessClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: identity.Issuer, Subject: strconv.FormatInt(u.ID, 10), Audience: jwt.ClaimStrings{identity.AudienceAPI},
				IssuedAt: jwt.NewNumericDate(time.Now().Add(-2 * time.Hour)), ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Hour)),
			},
			SessionID: "whatever", Role: identity.GroupAdmin, GroupID: u.GroupID, Username: u.Username,
		})
		if err != nil {
			t.Fatal(err)
		}
		tampered := s.token[:len(s.token)-4] + strings.Map(func(r rune) rune {
			if r == 'A' {
				return 'B'
			}
			return 'A'
		}, s.token[len(s.token)-4:])

		tests := []struct {
			name    string
			headers []string
			status  int
		}{
			{"200/session", servertest.Bearer(s.token), 200},
			{"401/no token", nil, 401},
			{"401/expired", servertest.Bearer(expired), 401},
			{"401/tampered", servertest.Bearer(tampered), 401},
			{"401/garbage", servertest.Bearer("not.a.jwt"), 401},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "GET", "/api/auth/me", nil, tc.headers...)
				if tc.status != http.StatusOK {
					wantNetKeyError(t, r, tc.status, "")
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				wantKeys(t, "me", r.JSON, "id", "username", "email", "full_name", "role", "group_id", "group_name",
					"email_verified", "mfa_enabled", "last_login", "created_at")
				if r.JSON["id"] != float64(u.ID) || r.JSON["group_name"] != "acme" || r.JSON["mfa_enabled"] != false {
					t.Fatalf("me = %s", r.Raw)
				}
				for _, f := range []string{"last_login", "created_at"} {
					if _, err := time.Parse(time.RFC3339, r.JSON[f].(string)); err != nil || !strings.HasSuffix(r.JSON[f].(string), "Z") {
						t.Fatalf("%s = %v: not RFC 3339 UTC", f, r.JSON[f])
					}
				}
			})
		}
	})
}

func TestMFA(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "erin", password, identity.RoleUser, "acme")
		s := login(t, e, "erin", password)
		auth := servertest.Bearer(s.token)

		// Codes are taken relative to the moment of each call at steps -1, 0
		// and +1, so each is newer than the last accepted one (replay
		// protection) and within the accepted skew, whenever the test runs.
		code := func(offset time.Duration, secret string) string {
			c, err := identity.TOTPCode(secret, time.Now().Add(offset))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/mfa/setup", nil, servertest.Master()...), 403, "")
		r := e.Do(t, "POST", "/api/auth/mfa/setup", nil, auth...)
		if r.Status != http.StatusOK {
			t.Fatalf("setup: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "setup", r.JSON, "success", "secret", "otpauth_url", "qr_code_png")
		secret := r.JSON["secret"].(string)
		if !strings.HasPrefix(r.JSON["otpauth_url"].(string), "otpauth://totp/") || r.JSON["qr_code_png"] == "" {
			t.Fatalf("setup = %s", r.Raw)
		}

		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/mfa/enable", `{"totp_code":`, auth...), 400, "VALIDATION_ERROR")
		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/mfa/enable", map[string]string{}, auth...), 400, "VALIDATION_ERROR")
		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/mfa/enable", map[string]string{"totp_code": "000000"}, auth...), 400, "")
		r = e.Do(t, "POST", "/api/auth/mfa/enable", map[string]string{"totp_code": code(-30*time.Second, secret)}, auth...)
		if r.Status != http.StatusOK || r.JSON["success"] != true {
			t.Fatalf("enable: %d %s", r.Status, r.Raw)
		}
		if me := e.Do(t, "GET", "/api/auth/me", nil, auth...); me.JSON["mfa_enabled"] != true {
			t.Fatalf("me after enable: %s", me.Raw)
		}

		r = e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "erin", "password": password})
		if r.Status != http.StatusOK {
			t.Fatalf("login without code: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "mfa required", r.JSON, "requires_mfa", "mfa_type")
		apitest.AssertShape(t, r.Raw, "testdata/seed/auth_login_mfa_required.json")
		if r.JSON["requires_mfa"] != true || r.JSON["mfa_type"] != "totp" || refreshCookie(t, r) != nil {
			t.Fatalf("login without code = %s %v", r.Raw, r.Header.Values("Set-Cookie"))
		}

		now := code(0, secret)
		r = e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "erin", "password": password, "totp_code": now})
		if r.Status != http.StatusOK || r.JSON["token"] == nil || refreshCookie(t, r) == nil {
			t.Fatalf("login with code: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "erin", "password": password, "totp_code": now})
		wantNetKeyError(t, r, 401, "INVALID_TOTP")

		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/mfa/disable",
			map[string]string{"password": "wrong-password", "totp_code": code(30*time.Second, secret)}, auth...), 401, "")
		wantNetKeyError(t, e.Do(t, "POST", "/api/auth/mfa/disable", map[string]string{"password": password}, auth...), 400, "VALIDATION_ERROR")
		r = e.Do(t, "POST", "/api/auth/mfa/disable", map[string]string{"password": password, "totp_code": code(30*time.Second, secret)}, auth...)
		if r.Status != http.StatusOK || r.JSON["success"] != true {
			t.Fatalf("disable: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "erin", "password": password})
		if r.Status != http.StatusOK || r.JSON["token"] == nil {
			t.Fatalf("login after disable: %d %s", r.Status, r.Raw)
		}
	})
}

// TestAuthRateLimit: login and refresh share one per-IP budget (50/minute).
func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		for i := range 50 {
			if r := e.Do(t, "POST", "/api/auth/refresh", nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("refresh %d: %d %s", i, r.Status, r.Raw)
			}
		}
		r := e.Do(t, "POST", "/api/auth/login", map[string]any{"username": "x", "password": "y"})
		wantNetKeyError(t, r, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED")
		if r.Header.Get("Retry-After") == "" || r.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("rate limit headers: %v", r.Header)
		}
	})
}

// TestSessionEndsOnEveryReplica: a logout or a detected refresh token theft
// on one replica ends the session's access tokens on the others.
func TestSessionEndsOnEveryReplica(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, a *servertest.Env) {
		if a.Kind != config.Postgres {
			t.Skip("replicas share a PostgreSQL database")
		}
		b := servertest.Replica(t, a)
		a.CreateUser(t, "frank", password, identity.RoleUser, "acme")
		ended := func(e *servertest.Env, token string) func() bool {
			return func() bool {
				return e.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(token)...).Status == http.StatusUnauthorized
			}
		}

		s := login(t, a, "frank", password)
		if r := b.Do(t, "GET", "/api/auth/me", nil, servertest.Bearer(s.token)...); r.Status != http.StatusOK {
			t.Fatalf("me on replica b: %d %s", r.Status, r.Raw)
		}
		if r := a.Do(t, "POST", "/api/auth/logout", nil, servertest.Bearer(s.token)...); r.Status != http.StatusOK {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		servertest.Eventually(t, 5*time.Second, ended(b, s.token), "logged-out token still works on replica b")

		s = login(t, a, "frank", password)
		r := b.Do(t, "POST", "/api/auth/refresh", nil, withCookie(s.refresh)...)
		if r.Status != http.StatusOK {
			t.Fatalf("refresh on replica b: %d %s", r.Status, r.Raw)
		}
		wantNetKeyError(t, b.Do(t, "POST", "/api/auth/refresh", nil, withCookie(s.refresh)...), 401, "TOKEN_REUSED")
		servertest.Eventually(t, 5*time.Second, ended(a, s.token), "token of a stolen family still works on replica a")
		wantNetKeyError(t, a.Do(t, "POST", "/api/auth/refresh", nil, withCookie(refreshCookie(t, r).Value)...), 401, "")
	})
}
