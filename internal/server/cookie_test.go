package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// The browser session cookie authenticates like an access token of its
// session; a change made with it must come from the server's own origin;
// logout ends it.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "correct horse battery", identity.GroupAdmin, "team")
		web := e.WebSession(t, "alice", "correct horse battery")
		u, err := url.Parse(e.URL)
		if err != nil {
			t.Fatal(err)
		}
		self, evil := "http://"+u.Host, "http://evil.example"

		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Cookie(web)...); r.Status != http.StatusOK {
			t.Fatalf("GET with cookie: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Cookie("garbage")...); r.Status != http.StatusUnauthorized {
			t.Fatalf("GET with a bad cookie: %d %s", r.Status, r.Raw)
		}
		// An access token is no cookie.
		access, _ := e.Login(t, "alice", "correct horse battery")
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Cookie(access)...); r.Status != http.StatusUnauthorized {
			t.Fatalf("access token as cookie: %d %s", r.Status, r.Raw)
		}
		// And a web token is no Bearer token.
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(web)...); r.Status != http.StatusUnauthorized {
			t.Fatalf("web token as bearer: %d %s", r.Status, r.Raw)
		}

		cross := []struct {
			name    string
			headers []string
		}{
			{"no origin at all", nil},
			{"foreign origin", []string{"Origin", evil}},
			{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site"}},
			{"foreign referer", []string{"Referer", evil + "/page"}},
			{"null origin", []string{"Origin", "null"}},
		}
		for _, c := range cross {
			h := append(servertest.Cookie(web), c.headers...)
			r := e.Do(t, "POST", "/api/v1/auth/logout", nil, h...)
			if r.Status != http.StatusForbidden || r.ErrorCode() != "CROSS_SITE_REQUEST" {
				t.Fatalf("%s: %d %s, want 403 CROSS_SITE_REQUEST", c.name, r.Status, r.Raw)
			}
		}
		// Still logged in: the refused requests changed nothing.
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Cookie(web)...); r.Status != http.StatusOK {
			t.Fatalf("after refused logouts: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/auth/logout", nil, append(servertest.Cookie(web), "Origin", self)...); r.Status != http.StatusOK {
			t.Fatalf("same-origin logout: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Cookie(web)...); r.Status != http.StatusUnauthorized {
			t.Fatalf("cookie after logout: %d %s", r.Status, r.Raw)
		}
	})
}
