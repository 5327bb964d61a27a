package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// The authorization matrix walks every route the server registers. Every
// Authenticated route must answer 401 without a credential and with a bad
// one; and every such route must have an entry in matrix below saying how a
// permitted caller succeeds, who is refused (403), and whether another
// group's caller must get 404. A route added without an entry fails the test.

// world is the fixture the matrix runs in: groups A and B, a GROUP_ADMIN
// and a USER in A, a GROUP_ADMIN in B, and an API key in A whose only scope
// is audit:read.
type world struct {
	e                  *servertest.Env
	n                  int    // counter for unique names
	fresh              string // token of the last freshUser
	adminA, userA      string // access tokens
	adminB             string
	narrowKeyA         string
	adminAID, userAID  int64
	adminBID           int64
	groupAID, groupBID int64
}

// A case describes one route. ok builds a request a GROUP_ADMIN of A may
// make (it may create what it needs first); deny names who gets 403
// ("user": A's USER; "scope": A's audit:read-only key; "": nobody, any
// authenticated caller may); cross says B's admin gets 404 for the object
// the path names.
type matrixCase struct {
	ok    func(t *testing.T, w *world) (path string, body any)
	deny  string
	cross bool
	// actor is who makes the ok request: "" A's GROUP_ADMIN, "master" the
	// master key (SUPER_ADMIN-only routes), "fresh" the user last made by
	// freshUser (for routes that change the caller's own account).
	actor string
}

// freshUser creates a new GROUP_ADMIN in A, logs in, and remembers its token
// for actor "fresh".
func freshUser(t *testing.T, w *world) (id int64, name string) {
	t.Helper()
	w.n++
	name = fmt.Sprintf("fresh-%d", w.n)
	u := w.e.CreateUser(t, name, "password1", identity.GroupAdmin, "A")
	w.fresh, _ = w.e.Login(t, name, "password1")
	return u.ID, name
}

// mfaSecret starts MFA enrolment for the fresh user and returns the secret.
func mfaSecret(t *testing.T, w *world) string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/auth/mfa/setup", nil, servertest.Bearer(w.fresh)...)
	if r.Status != 200 {
		t.Fatalf("mfa setup: %d %s", r.Status, r.Raw)
	}
	return r.JSON["secret"].(string)
}

func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := identity.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func freshPath(prefix string, byName bool) func(*testing.T, *world) (string, any) {
	return func(t *testing.T, w *world) (string, any) {
		id, name := freshUser(t, w)
		if byName {
			return prefix + name, map[string]any{"password": "password2"}
		}
		return fmt.Sprintf("%s%d", prefix, id), map[string]any{"full_name": "Changed"}
	}
}

func fixed(path string) func(*testing.T, *world) (string, any) {
	return func(*testing.T, *world) (string, any) { return path, nil }
}

func newKey(t *testing.T, w *world) string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "m", "scopes": []string{"users:read"}}, servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("creating key: %d %s", r.Status, r.Raw)
	}
	return r.JSON["id"].(string)
}

var matrix = map[string]matrixCase{
	"GET /api/v1/auth/me":      {ok: fixed("/api/v1/auth/me")},
	"POST /api/v1/auth/logout": {ok: fixed("/api/v1/auth/logout")},
	"GET /api/v1/audit-logs":   {ok: fixed("/api/v1/audit-logs"), deny: "user"},
	"GET /api/v1/apikeys":      {ok: fixed("/api/v1/apikeys"), deny: "scope"},
	"GET /api/v1/api-keys":     {ok: fixed("/api/v1/api-keys"), deny: "scope"},
	"POST /api/v1/apikeys": {deny: "scope", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/apikeys", map[string]any{"name": "x", "scopes": []string{"users:read"}}
	}},
	"POST /api/v1/api-keys": {deny: "scope", ok: func(*testing.T, *world) (string, any) {
		return "/api/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"users:read"}}
	}},
	"GET /api/v1/apikeys/{keyId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/apikeys/" + newKey(t, w), nil
	}},
	"GET /api/v1/api-keys/{keyId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/api-keys/" + newKey(t, w), nil
	}},
	"DELETE /api/v1/apikeys/{keyId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/apikeys/" + newKey(t, w), nil
	}},
	"DELETE /api/v1/api-keys/{keyId}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/api-keys/" + newKey(t, w), nil
	}},

	// NetKey web auth and MFA.
	"GET /api/auth/me":      {ok: fixed("/api/auth/me")},
	"POST /api/auth/logout": {ok: fixed("/api/auth/logout")},
	"POST /api/auth/mfa/setup": {actor: "fresh", ok: func(t *testing.T, w *world) (string, any) {
		freshUser(t, w)
		return "/api/auth/mfa/setup", nil
	}},
	"POST /api/auth/mfa/enable": {actor: "fresh", ok: func(t *testing.T, w *world) (string, any) {
		freshUser(t, w)
		secret := mfaSecret(t, w)
		return "/api/auth/mfa/enable", map[string]string{"totp_code": totp(t, secret, time.Now())}
	}},
	"POST /api/auth/mfa/disable": {actor: "fresh", ok: func(t *testing.T, w *world) (string, any) {
		freshUser(t, w)
		secret := mfaSecret(t, w)
		if r := w.e.Do(t, "POST", "/api/auth/mfa/enable", map[string]string{"totp_code": totp(t, secret, time.Now())}, servertest.Bearer(w.fresh)...); r.Status != 200 {
			t.Fatalf("mfa enable: %d %s", r.Status, r.Raw)
		}
		return "/api/auth/mfa/disable", map[string]string{"password": "password1", "totp_code": totp(t, secret, time.Now().Add(30*time.Second))}
	}},

	// Users: NetKey, GateKey, Netmaker.
	"GET /api/v1/users": {deny: "scope", ok: fixed("/api/v1/users")},
	"POST /api/v1/users": {deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		name := fmt.Sprintf("created-%d", w.n)
		return "/api/v1/users", map[string]any{"username": name, "email": name + "@example.com", "password": "password1"}
	}},
	"GET /api/v1/users/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d", w.userAID), nil
	}},
	"PUT /api/v1/users/{id}":       {deny: "user", cross: true, ok: freshPath("/api/v1/users/", false)},
	"DELETE /api/v1/users/{id}":    {deny: "user", cross: true, ok: freshPath("/api/v1/users/", false)},
	"GET /api/v1/admin/users":      {deny: "scope", ok: fixed("/api/v1/admin/users")},
	"GET /api/v1/auth/session":     {ok: fixed("/api/v1/auth/session")},
	"GET /api/users/{username}":    {deny: "scope", cross: true, ok: fixed("/api/users/user-a")},
	"PUT /api/users/{username}":    {deny: "user", cross: true, ok: freshPath("/api/users/", true)},
	"DELETE /api/users/{username}": {deny: "user", cross: true, ok: freshPath("/api/users/", true)},

	// Groups: SUPER_ADMIN manages, others read their own.
	"GET /api/v1/groups": {deny: "scope", ok: fixed("/api/v1/groups")},
	"GET /api/v1/groups/{id}": {deny: "scope", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/groups/%d", w.groupAID), nil
	}},
	"POST /api/v1/groups": {actor: "master", deny: "user", ok: func(t *testing.T, w *world) (string, any) {
		w.n++
		return "/api/v1/groups", map[string]string{"name": fmt.Sprintf("new-%d", w.n)}
	}},
	// Other groups are invisible to A's callers (404, checked as cross);
	// TestGroupAdminCannotManageGroups checks 403 on their own group.
	"PUT /api/v1/groups/{id}": {actor: "master", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/groups/" + emptyGroup(t, w), map[string]string{"name": fmt.Sprintf("renamed-%d", w.n)}
	}},
	"DELETE /api/v1/groups/{id}": {actor: "master", cross: true, ok: func(t *testing.T, w *world) (string, any) {
		return "/api/v1/groups/" + emptyGroup(t, w), nil
	}},
}

func emptyGroup(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	r := w.e.Do(t, "POST", "/api/v1/groups", map[string]string{"name": fmt.Sprintf("empty-%d", w.n)}, servertest.Master()...)
	if r.Status != 201 {
		t.Fatalf("creating group: %d %s", r.Status, r.Raw)
	}
	return fmt.Sprint(r.JSON["id"])
}

func TestGroupAdminCannotManageGroups(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newWorld(t, e)
		own := fmt.Sprintf("/api/v1/groups/%d", w.groupAID)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/groups", map[string]string{"name": "mine"}},
			{"PUT", own, map[string]string{"name": "renamed"}},
			{"DELETE", own, nil},
		} {
			if r := e.Do(t, c.method, c.path, c.body, servertest.Bearer(w.adminA)...); r.Status != 403 {
				t.Errorf("%s %s as GROUP_ADMIN: %d, want 403 (%s)", c.method, c.path, r.Status, r.Raw)
			}
		}
	})
}

var pathVar = regexp.MustCompile(`\{[^}]+\}`)

func splitPattern(p string) (method, path string) {
	method, path, _ = strings.Cut(p, " ")
	return method, path
}

func newWorld(t *testing.T, e *servertest.Env) *world {
	w := &world{e: e}
	ga := e.CreateUser(t, "admin-a", "password1", identity.GroupAdmin, "A")
	ua := e.CreateUser(t, "user-a", "password1", identity.RoleUser, "A")
	gb := e.CreateUser(t, "admin-b", "password1", identity.GroupAdmin, "B")
	w.adminAID, w.userAID, w.adminBID, w.groupAID, w.groupBID = ga.ID, ua.ID, gb.ID, ga.GroupID, gb.GroupID
	w.adminA, _ = e.Login(t, "admin-a", "password1")
	w.userA, _ = e.Login(t, "user-a", "password1")
	w.adminB, _ = e.Login(t, "admin-b", "password1")
	r := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "narrow", "scopes": []string{"audit:read"}}, servertest.Bearer(w.adminA)...)
	if r.Status != 201 {
		t.Fatalf("narrow key: %d %s", r.Status, r.Raw)
	}
	w.narrowKeyA = r.JSON["key"].(string)
	return w
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newWorld(t, e)
		var missing []string
		for _, rt := range e.Server.Routes() {
			if rt.Access != api.Authenticated {
				continue
			}
			method, pattern := splitPattern(rt.Pattern)
			concrete := pathVar.ReplaceAllString(pattern, "1")
			t.Run(rt.Pattern, func(t *testing.T) {
				for name, hdr := range map[string][]string{
					"no credential":  nil,
					"bad token":      servertest.Bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"),
					"unknown apikey": {"X-API-Key", "nk_" + strings.Repeat("Z", 43)},
				} {
					if r := e.Do(t, method, concrete, nil, hdr...); r.Status != http.StatusUnauthorized {
						t.Errorf("%s: %d, want 401 (%s)", name, r.Status, r.Raw)
					}
				}
				c, ok := matrix[rt.Pattern]
				if !ok {
					return
				}
				if c.deny != "" {
					path, body := c.ok(t, w)
					hdr := servertest.Bearer(w.userA)
					if c.deny == "scope" {
						hdr = []string{"X-API-Key", w.narrowKeyA}
					}
					if r := e.Do(t, method, path, body, hdr...); r.Status != http.StatusForbidden {
						t.Errorf("as %s: %d, want 403 (%s)", c.deny, r.Status, r.Raw)
					}
				}
				if c.cross {
					path, body := c.ok(t, w)
					if r := e.Do(t, method, path, body, servertest.Bearer(w.adminB)...); r.Status != http.StatusNotFound {
						t.Errorf("as group B: %d, want 404 (%s)", r.Status, r.Raw)
					}
				}
				path, body := c.ok(t, w)
				hdr := servertest.Bearer(w.adminA)
				switch {
				case c.actor == "master":
					hdr = servertest.Master()
				case c.actor == "fresh":
					hdr = servertest.Bearer(w.fresh)
				case strings.HasSuffix(rt.Pattern, "/logout"):
					fresh, _ := e.Login(t, "admin-a", "password1") // keep adminA's session alive
					hdr = servertest.Bearer(fresh)
				}
				if r := e.Do(t, method, path, body, hdr...); r.Status < 200 || r.Status > 299 {
					t.Errorf("as group A admin: %d, want 2xx (%s)", r.Status, r.Raw)
				}
			})
			if _, ok := matrix[rt.Pattern]; !ok {
				missing = append(missing, rt.Pattern)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			t.Errorf("routes without an authorization matrix entry (add them to matrix):\n%s", strings.Join(missing, "\n"))
		}
		for p := range matrix {
			found := false
			for _, rt := range e.Server.Routes() {
				found = found || rt.Pattern == p
			}
			if !found {
				t.Errorf("matrix entry %q names no registered route", p)
			}
		}
	})
}
