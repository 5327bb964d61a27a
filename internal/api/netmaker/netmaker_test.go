package netmaker_test

import (
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

const password = "correct-horse-battery"

var userFields = []string{"username", "isadmin", "issuperadmin", "networks", "groups",
	"id", "email", "full_name", "role", "group_id", "group_name", "is_active"}

func wantKeys(tb testing.TB, what string, m any, want ...string) {
	tb.Helper()
	obj, ok := m.(map[string]any)
	if !ok {
		tb.Fatalf("%s: not an object: %#v", what, m)
	}
	got := make([]string, 0, len(obj))
	for k := range obj {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s: keys = %v, want %v", what, got, want)
	}
}

// wantError fails unless r is {"error": {"code", "message"}} with status and code.
func wantError(tb testing.TB, r *servertest.Response, status int, code string) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	e, ok := r.JSON["error"].(map[string]any)
	if !ok || e["message"] == nil {
		tb.Fatalf("not an error envelope: %s", r.Raw)
	}
	if code != "" && e["code"] != code {
		tb.Fatalf("code = %v, want %s", e["code"], code)
	}
}

// authenticate logs in through /api/users/adm/authenticate.
func authenticate(tb testing.TB, e *servertest.Env, username, pw string) string {
	tb.Helper()
	r := e.Do(tb, "POST", "/api/users/adm/authenticate", map[string]string{"username": username, "password": pw})
	if r.Status != http.StatusOK {
		tb.Fatalf("authenticate %s: %d %s", username, r.Status, r.Raw)
	}
	return r.JSON["Response"].(map[string]any)["AuthToken"].(string)
}

func hasAdmin(tb testing.TB, e *servertest.Env) string {
	tb.Helper()
	r := e.Do(tb, "GET", "/api/users/adm/hasadmin", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		tb.Fatalf("hasadmin: %d %s", r.Status, r.Raw)
	}
	return strings.TrimSpace(string(r.Raw))
}

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		if got := hasAdmin(t, e); got != "false" {
			t.Fatalf("hasadmin on an empty server = %s", got)
		}
		admin := func(name string) map[string]string { return map[string]string{"username": name, "password": password} }

		// Before any user exists, createadmin is the public first-run setup.
		wantError(t, e.Do(t, "POST", "/api/users/adm/createadmin", `{"username":`), 400, "BAD_REQUEST")
		wantError(t, e.Do(t, "POST", "/api/users/adm/createadmin", map[string]string{"username": "admin", "password": "short"}), 400, "BAD_REQUEST")
		r := e.Do(t, "POST", "/api/users/adm/createadmin", admin("admin"))
		if r.Status != http.StatusOK {
			t.Fatalf("first createadmin: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "user", r.JSON, userFields...)
		if r.JSON["username"] != "admin" || r.JSON["isadmin"] != true || r.JSON["issuperadmin"] != true || r.JSON["role"] != "SUPER_ADMIN" {
			t.Fatalf("createadmin = %s", r.Raw)
		}
		if got := hasAdmin(t, e); got != "true" {
			t.Fatalf("hasadmin after setup = %s", got)
		}

		e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme")
		rootToken := authenticate(t, e, "admin", password)
		gaToken := authenticate(t, e, "ga", password)
		tests := []struct {
			name    string
			headers []string
			body    any
			status  int
			code    string
		}{
			{"401/anonymous once an admin exists", nil, admin("admin2"), 401, "UNAUTHORIZED"},
			{"401/anonymous, bad json", nil, `{"x`, 401, "UNAUTHORIZED"},
			{"401/invalid token", servertest.Bearer("not-a-token"), admin("admin2"), 401, "UNAUTHORIZED"},
			{"403/group admin", servertest.Bearer(gaToken), admin("admin2"), 403, "FORBIDDEN"},
			{"200/master key", servertest.Master(), admin("admin2"), 200, ""},
			{"200/super admin", servertest.Bearer(rootToken), admin("admin3"), 200, ""},
			{"409/duplicate", servertest.Master(), admin("admin"), 409, ""},
			{"400/bad json", servertest.Master(), `{"x`, 400, "BAD_REQUEST"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/users/adm/createadmin", tc.body, tc.headers...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK || r.JSON["issuperadmin"] != true {
					t.Fatalf("createadmin: %d %s", r.Status, r.Raw)
				}
			})
		}
	})
}

// TestHasAdminWithoutSuperAdmin: users exist, but none is a SUPER_ADMIN.
func TestHasAdminWithoutSuperAdmin(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme")
		if got := hasAdmin(t, e); got != "false" {
			t.Fatalf("hasadmin = %s", got)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", password, identity.RoleUser, "acme")
		tests := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"200/ok", map[string]string{"username": "alice", "password": password}, 200, ""},
			{"400/bad json", `{"username":`, 400, "BAD_REQUEST"},
			{"400/missing password", map[string]string{"username": "alice"}, 400, "BAD_REQUEST"},
			{"401/wrong password", map[string]string{"username": "alice", "password": "wrong-password"}, 401, "INVALID_CREDENTIALS"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/users/adm/authenticate", tc.body)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				wantKeys(t, "body", r.JSON, "Code", "Message", "Response")
				wantKeys(t, "Response", r.JSON["Response"], "AuthToken", "UserName")
				resp := r.JSON["Response"].(map[string]any)
				if r.JSON["Code"] != float64(200) || r.JSON["Message"] != "W1R3: Device alice Authorized" || resp["UserName"] != "alice" {
					t.Fatalf("authenticate = %s", r.Raw)
				}
				if g := e.Do(t, "GET", "/api/users/alice", nil, servertest.Bearer(resp["AuthToken"].(string))...); g.Status != http.StatusOK {
					t.Fatalf("AuthToken does not work: %d %s", g.Status, g.Raw)
				}
			})
		}
	})
}

func TestUsersByName(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme")
		e.CreateUser(t, "usr", password, identity.RoleUser, "acme")
		e.CreateUser(t, "self", password, identity.RoleUser, "acme")
		e.CreateUser(t, "gb", password, identity.GroupAdmin, "globex")
		e.CreateUser(t, "gbu", password, identity.RoleUser, "globex")
		ga, gb, usr, self := authenticate(t, e, "ga", password), authenticate(t, e, "gb", password),
			authenticate(t, e, "usr", password), authenticate(t, e, "self", password)

		tests := []struct {
			name    string
			method  string
			path    string
			headers []string
			body    any
			status  int
			code    string
			check   func(r *servertest.Response) bool
		}{
			{name: "200/get", method: "GET", path: "/api/users/usr", headers: servertest.Bearer(ga), status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["username"] == "usr" && r.JSON["isadmin"] == false }},
			{name: "200/get by master", method: "GET", path: "/api/users/gbu", headers: servertest.Master(), status: 200},
			{name: "401/get anonymous", method: "GET", path: "/api/users/usr", status: 401, code: "UNAUTHORIZED"},
			{name: "404/get other group", method: "GET", path: "/api/users/gbu", headers: servertest.Bearer(ga), status: 404, code: "NOT_FOUND"},
			{name: "404/get other group, reverse", method: "GET", path: "/api/users/usr", headers: servertest.Bearer(gb), status: 404, code: "NOT_FOUND"},
			{name: "404/get missing", method: "GET", path: "/api/users/nobody", headers: servertest.Master(), status: 404, code: "NOT_FOUND"},

			{name: "200/put password", method: "PUT", path: "/api/users/gbu", headers: servertest.Master(), body: map[string]string{"password": "noonewillguessthis"}, status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["username"] == "gbu" }},
			{name: "200/put whole object back", method: "PUT", path: "/api/users/self", headers: servertest.Bearer(self),
				body: map[string]any{"username": "self", "password": "another-password", "isadmin": true, "networks": []string{}}, status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["role"] == "USER" && r.JSON["isadmin"] == false }},
			{name: "200/put fields", method: "PUT", path: "/api/users/usr", headers: servertest.Bearer(ga), body: map[string]any{"full_name": "Ursula", "email": "ursula@example.com"}, status: 200,
				check: func(r *servertest.Response) bool {
					return r.JSON["full_name"] == "Ursula" && r.JSON["email"] == "ursula@example.com"
				}},
			{name: "400/put bad json", method: "PUT", path: "/api/users/usr", headers: servertest.Bearer(ga), body: `{"password":`, status: 400, code: "BAD_REQUEST"},
			{name: "400/put short password", method: "PUT", path: "/api/users/usr", headers: servertest.Bearer(ga), body: map[string]string{"password": "short"}, status: 400, code: "BAD_REQUEST"},
			{name: "403/put role by user", method: "PUT", path: "/api/users/usr", headers: servertest.Bearer(usr), body: map[string]string{"role": "GROUP_ADMIN"}, status: 403, code: "FORBIDDEN"},
			{name: "404/put other group", method: "PUT", path: "/api/users/gbu", headers: servertest.Bearer(ga), body: map[string]string{"password": "noonewillguessthis"}, status: 404, code: "NOT_FOUND"},

			{name: "403/delete by user", method: "DELETE", path: "/api/users/ga", headers: servertest.Bearer(usr), status: 403, code: "FORBIDDEN"},
			{name: "404/delete other group", method: "DELETE", path: "/api/users/gbu", headers: servertest.Bearer(ga), status: 404, code: "NOT_FOUND"},
			{name: "200/delete", method: "DELETE", path: "/api/users/usr", headers: servertest.Bearer(ga), status: 200,
				check: func(r *servertest.Response) bool { return strings.TrimSpace(string(r.Raw)) == `"usr deleted."` }},
			{name: "404/get deleted", method: "GET", path: "/api/users/usr", headers: servertest.Bearer(ga), status: 404, code: "NOT_FOUND"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, tc.body, tc.headers...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				if tc.method != "DELETE" {
					wantKeys(t, "user", r.JSON, userFields...)
				}
				if tc.check != nil && !tc.check(r) {
					t.Fatalf("unexpected answer: %s", r.Raw)
				}
			})
		}
		authenticate(t, e, "gbu", "noonewillguessthis")
	})
}
