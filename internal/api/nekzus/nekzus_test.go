package nekzus_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

func TestSetup(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		r := e.Do(t, "GET", "/api/v1/auth/setup-status", nil)
		if r.Status != 200 || r.JSON["setupRequired"] != true || r.JSON["hasUsers"] != false {
			t.Fatalf("setup-status before: %d %s", r.Status, r.Raw)
		}
		cases := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"400/bad json", `{"username":`, 400, "BAD_REQUEST"},
			{"400/empty body", "", 400, "BAD_REQUEST"},
			{"400/short password", map[string]string{"username": "admin", "password": "short"}, 400, "BAD_REQUEST"},
			{"400/missing username", map[string]string{"password": "long enough"}, 400, "BAD_REQUEST"},
			{"201/ok", map[string]string{"username": "admin", "password": "long enough"}, 201, ""},
			{"409/second setup", map[string]string{"username": "other", "password": "long enough"}, 409, "SETUP_COMPLETED"},
		}
		for _, c := range cases {
			r := e.Do(t, "POST", "/api/v1/auth/setup", c.body)
			if r.Status != c.status {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
			if c.code != "" {
				errObj, _ := r.JSON["error"].(map[string]any)
				if errObj["code"] != c.code || errObj["message"] == "" {
					t.Fatalf("%s: envelope %s", c.name, r.Raw)
				}
			}
		}
		r = e.Do(t, "GET", "/api/v1/auth/setup-status", nil)
		if r.JSON["setupRequired"] != false || r.JSON["hasUsers"] != true {
			t.Fatalf("setup-status after: %s", r.Raw)
		}
		// The second setup changed nothing: only admin can log in.
		if r := e.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "other", "password": "long enough"}); r.Status != 401 {
			t.Fatalf("second setup's user exists: %d", r.Status)
		}
	})
}

func TestLoginRefreshMeLogout(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		// Login by email (NetRecon) and by username (Nekzus) both work.
		for _, body := range []map[string]string{
			{"email": "alice@example.com", "password": "password1"},
			{"username": "alice", "password": "password1"},
		} {
			r := e.Do(t, "POST", "/api/v1/auth/login", body)
			if r.Status != 200 {
				t.Fatalf("login %v: %d %s", body, r.Status, r.Raw)
			}
			for _, k := range []string{"access_token", "refresh_token", "token"} {
				if s, _ := r.JSON[k].(string); s == "" {
					t.Fatalf("login response lacks %s: %s", k, r.Raw)
				}
			}
			if r.JSON["token_type"] != "bearer" || r.JSON["expires_in"] != float64(3600) {
				t.Fatalf("login response: %s", r.Raw)
			}
			u := r.JSON["user"].(map[string]any)
			for _, k := range []string{"id", "username", "createdAt", "lastLogin", "isActive"} {
				if _, ok := u[k]; !ok {
					t.Fatalf("user lacks %s: %v", k, u)
				}
			}
		}
		for name, body := range map[string]any{
			"401/wrong password": map[string]string{"username": "alice", "password": "password2"},
			"401/unknown user":   map[string]string{"username": "bob", "password": "password1"},
		} {
			r := e.Do(t, "POST", "/api/v1/auth/login", body)
			if r.Status != 401 || r.JSON["error"].(map[string]any)["code"] != "INVALID_CREDENTIALS" {
				t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
			}
		}

		access, refresh := e.Login(t, "alice", "password1")
		r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(access)...)
		if r.Status != 200 || r.JSON["user"].(map[string]any)["username"] != "alice" {
			t.Fatalf("me: %d %s", r.Status, r.Raw)
		}
		// Refresh with a body rotates the pair.
		r = e.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
		if r.Status != 200 || r.JSON["refresh_token"] == refresh || r.JSON["access_token"] == "" {
			t.Fatalf("refresh: %d %s", r.Status, r.Raw)
		}
		newRefresh := r.JSON["refresh_token"].(string)
		if r := e.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh}); r.Status != 401 {
			t.Fatalf("rotated token reused: %d", r.Status)
		}
		if r := e.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": newRefresh}); r.Status != 401 {
			t.Fatalf("family survived theft: %d", r.Status)
		}
		// Refresh with a bearer access token (Nekzus).
		access, _ = e.Login(t, "alice", "password1")
		r = e.Do(t, "POST", "/api/v1/auth/refresh", nil, servertest.Bearer(access)...)
		if r.Status != 200 || r.JSON["accessToken"] == "" || r.JSON["expiresIn"] == nil || r.JSON["scopes"] == nil {
			t.Fatalf("bearer refresh: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/auth/refresh", nil); r.Status != 401 {
			t.Fatalf("refresh without anything: %d", r.Status)
		}
		// Logout is enforced on the server.
		r = e.Do(t, "POST", "/api/v1/auth/logout", nil, servertest.Bearer(access)...)
		if r.Status != 200 || r.JSON["message"] != "Logged out successfully" {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(access)...); r.Status != 401 {
			t.Fatalf("token works after logout: %d", r.Status)
		}
		if r := e.Do(t, "POST", "/api/v1/auth/refresh", nil, servertest.Bearer(access)...); r.Status != 401 {
			t.Fatalf("bearer refresh after logout: %d", r.Status)
		}
		for name, hdr := range map[string][]string{
			"no credential":   nil,
			"tampered token":  servertest.Bearer(access[:len(access)-3] + "abc"),
			"not a token":     servertest.Bearer("garbage"),
			"wrong master":    servertest.Bearer(strings.Repeat("x", 40)),
			"malformed key":   {"X-API-Key", "nk_short"},
			"unknown api key": {"X-API-Key", "nk_" + strings.Repeat("a", 43)},
		} {
			r := e.Do(t, "GET", "/api/v1/auth/me", nil, hdr...)
			if r.Status != 401 || r.JSON["error"].(map[string]any)["code"] == nil {
				t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
	})
}

func TestAuditLogs(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
		e.CreateUser(t, "carol", "password1", identity.RoleUser, "acme")
		alice, _ := e.Login(t, "alice", "password1")
		bob, _ := e.Login(t, "bob", "password1")
		carol, _ := e.Login(t, "carol", "password1")
		e.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "alice", "password": "nope nope"})

		r := e.Do(t, "GET", "/api/v1/audit-logs?action=auth.login_failed", nil, servertest.Bearer(alice)...)
		if r.Status != 200 || r.JSON["count"] != float64(1) || r.JSON["limit"] != float64(100) || r.JSON["offset"] != float64(0) {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/audit_logs.json")
		r = e.Do(t, "GET", "/api/v1/audit-logs?action=auth.login_failed", nil, servertest.Bearer(bob)...)
		if r.JSON["count"] != float64(0) {
			t.Fatalf("bob sees acme's audit: %s", r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/audit-logs", nil, servertest.Bearer(carol)...); r.Status != 403 {
			t.Fatalf("USER reads audit: %d", r.Status)
		}
		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "offset=-1"} {
			if r := e.Do(t, "GET", "/api/v1/audit-logs?"+q, nil, servertest.Bearer(alice)...); r.Status != 400 {
				t.Fatalf("%s: %d", q, r.Status)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/audit-logs?limit=1", nil, servertest.Master()...); r.Status != 200 || r.JSON["count"] != float64(1) {
			t.Fatalf("master: %d %s", r.Status, r.Raw)
		}
	})
}

// TestReplicas runs two servers on one PostgreSQL: a logout on one ends the
// session on the other within a second (LISTEN/NOTIFY), and a key revoked on
// one stops working on the other.
func TestReplicas(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t, config.Postgres)
	b := servertest.Replica(t, a)
	a.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	access, _ := a.Login(t, "alice", "password1")
	if r := b.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("token of replica A on B: %d %s", r.Status, r.Raw)
	}
	r := a.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "k", "scopes": []string{"users:read"}}, servertest.Bearer(access)...)
	key, id := r.JSON["key"].(string), r.JSON["id"].(string)
	if r := b.Do(t, "GET", "/api/v1/auth/me", nil, "X-API-Key", key); r.Status != 200 {
		t.Fatalf("key on B: %d", r.Status)
	}
	a.Do(t, "DELETE", "/api/v1/apikeys/"+id, nil, servertest.Bearer(access)...)
	a.Do(t, "POST", "/api/v1/auth/logout", nil, servertest.Bearer(access)...)
	servertest.Eventually(t, time.Second, func() bool {
		return b.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(access)...).Status == http.StatusUnauthorized &&
			b.Do(t, "GET", "/api/v1/auth/me", nil, "X-API-Key", key).Status == http.StatusUnauthorized
	}, "replica B still accepts the logged-out token or the revoked key")
}
