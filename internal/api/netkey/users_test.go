package netkey_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

var userFields = []string{"id", "username", "email", "full_name", "role", "group_id", "group_name",
	"is_active", "email_verified", "mfa_enabled", "last_login", "created_at", "updated_at"}

// fixture is two groups with an administrator and a user each, and a
// SUPER_ADMIN, all logged in.
type fixture struct {
	e                       *servertest.Env
	root, ga, usr, gb       session
	acmeUser, globexUser    *identity.User
	acmeAdmin               *identity.User
	acmeGroupID, globexGrID int64
}

func newFixture(t *testing.T, e *servertest.Env) *fixture {
	t.Helper()
	f := &fixture{e: e}
	e.CreateUser(t, "root", password, identity.SuperAdmin, "default")
	f.acmeAdmin = e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme")
	f.acmeUser = e.CreateUser(t, "usr", password, identity.RoleUser, "acme")
	e.CreateUser(t, "gb", password, identity.GroupAdmin, "globex")
	f.globexUser = e.CreateUser(t, "gbu", password, identity.RoleUser, "globex")
	f.acmeGroupID, f.globexGrID = f.acmeUser.GroupID, f.globexUser.GroupID
	f.root, f.ga, f.usr, f.gb = login(t, e, "root", password), login(t, e, "ga", password), login(t, e, "usr", password), login(t, e, "gb", password)
	return f
}

// key creates an API key of user u with scopes and returns the header pair.
func (f *fixture) key(t *testing.T, u *identity.User, scopes ...string) []string {
	t.Helper()
	p := &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Username: u.Username, Role: authz.Role(u.Role), GroupID: u.GroupID}
	_, secret, err := f.e.Server.APIKeys.Create(context.Background(), p, servertest.Src, apikey.NewKey{Name: "test", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return []string{"X-API-Key", secret}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newFixture(t, e)
		newUser := func(name string, extra ...any) map[string]any {
			m := map[string]any{"username": name, "email": name + "@corp.example", "password": password, "full_name": "New " + name}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i].(string)] = extra[i+1]
			}
			return m
		}
		tests := []struct {
			name   string
			as     []string
			body   any
			status int
			code   string
			field  string // details.field of a validation error
			role   string // role of the created user
			group  string // group of the created user
		}{
			{name: "201/default role", as: servertest.Bearer(f.ga.token), body: newUser("n1"), status: 201, role: "USER", group: "acme"},
			{name: "201/group admin", as: servertest.Bearer(f.ga.token), body: newUser("n2", "role", "GROUP_ADMIN"), status: 201, role: "GROUP_ADMIN", group: "acme"},
			{name: "201/super admin into another group", as: servertest.Bearer(f.root.token), body: newUser("n3", "group_id", f.globexGrID), status: 201, role: "USER", group: "globex"},
			{name: "201/api key with users:write", as: f.key(t, f.acmeAdmin, "users:write"), body: newUser("n4"), status: 201, role: "USER", group: "acme"},
			{name: "400/bad json", as: servertest.Bearer(f.ga.token), body: `{"username":`, status: 400, code: "VALIDATION_ERROR"},
			{name: "400/missing username", as: servertest.Bearer(f.ga.token), body: newUser("", "username", ""), status: 400, code: "VALIDATION_ERROR", field: "username"},
			{name: "400/missing email", as: servertest.Bearer(f.ga.token), body: newUser("n5", "email", ""), status: 400, code: "VALIDATION_ERROR", field: "email"},
			{name: "400/missing password", as: servertest.Bearer(f.ga.token), body: newUser("n6", "password", ""), status: 400, code: "VALIDATION_ERROR", field: "password"},
			{name: "400/short password", as: servertest.Bearer(f.ga.token), body: newUser("n7", "password", "short"), status: 400, code: "VALIDATION_ERROR", field: "password"},
			{name: "400/bad email", as: servertest.Bearer(f.ga.token), body: newUser("n8", "email", "nope"), status: 400, code: "VALIDATION_ERROR", field: "email"},
			{name: "400/unknown role", as: servertest.Bearer(f.ga.token), body: newUser("n9", "role", "OWNER"), status: 400, code: "VALIDATION_ERROR", field: "role"},
			{name: "400/super admin is not created here", as: servertest.Bearer(f.root.token), body: newUser("n10", "role", "SUPER_ADMIN"), status: 400, code: "VALIDATION_ERROR", field: "role"},
			{name: "403/group admin creating super admin", as: servertest.Bearer(f.ga.token), body: newUser("n11", "role", "SUPER_ADMIN"), status: 403, code: "FORBIDDEN"},
			{name: "403/group admin creating in another group", as: servertest.Bearer(f.ga.token), body: newUser("n12", "group_id", f.globexGrID), status: 403, code: "FORBIDDEN"},
			{name: "403/user", as: servertest.Bearer(f.usr.token), body: newUser("n13"), status: 403, code: "FORBIDDEN"},
			{name: "403/api key with users:read only", as: f.key(t, f.acmeAdmin, "users:read"), body: newUser("n14"), status: 403, code: "FORBIDDEN"},
			{name: "401/no credential", body: newUser("n15"), status: 401},
			{name: "409/duplicate username", as: servertest.Bearer(f.ga.token), body: newUser("usr", "email", "other@corp.example"), status: 409, code: "USER_EXISTS"},
			{name: "409/duplicate username in another group", as: servertest.Bearer(f.ga.token), body: newUser("GBU", "email", "x@corp.example"), status: 409, code: "USER_EXISTS"},
			{name: "409/duplicate email", as: servertest.Bearer(f.ga.token), body: newUser("n16", "email", "usr@example.com"), status: 409, code: "USER_EXISTS"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/v1/users", tc.body, tc.as...)
				if tc.status != http.StatusCreated {
					wantNetKeyError(t, r, tc.status, tc.code)
					if tc.field != "" {
						if d, _ := r.JSON["details"].(map[string]any); d["field"] != tc.field {
							t.Fatalf("details = %v, want field %s", r.JSON["details"], tc.field)
						}
					}
					return
				}
				if r.Status != http.StatusCreated {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				wantKeys(t, "user", r.JSON, userFields...)
				body := tc.body.(map[string]any)
				if r.JSON["username"] != body["username"] || r.JSON["email"] != body["email"] || r.JSON["full_name"] != body["full_name"] ||
					r.JSON["role"] != tc.role || r.JSON["group_name"] != tc.group || r.JSON["is_active"] != true || r.JSON["last_login"] != nil {
					t.Fatalf("created = %s", r.Raw)
				}
			})
		}

		t.Run("200/created user logs in", func(t *testing.T) {
			login(t, e, "n1@corp.example", password)
		})
	})
}

func TestUserAccess(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newFixture(t, e)
		acmeUser, globexUser := fmt.Sprintf("/api/v1/users/%d", f.acmeUser.ID), fmt.Sprintf("/api/v1/users/%d", f.globexUser.ID)

		t.Run("list", func(t *testing.T) {
			tests := []struct {
				name  string
				as    []string
				users []string
			}{
				{"group admin sees its group", servertest.Bearer(f.ga.token), []string{"ga", "usr"}},
				{"user sees its group", servertest.Bearer(f.usr.token), []string{"ga", "usr"}},
				{"other group", servertest.Bearer(f.gb.token), []string{"gb", "gbu"}},
				{"super admin sees all", servertest.Bearer(f.root.token), []string{"root", "ga", "usr", "gb", "gbu"}},
				{"api key with users:read", f.key(t, f.acmeAdmin, "users:read"), []string{"ga", "usr"}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(t, "GET", "/api/v1/users", nil, tc.as...)
					if r.Status != http.StatusOK {
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					}
					wantKeys(t, "list", r.JSON, "users", "total")
					users := r.JSON["users"].([]any)
					if r.JSON["total"] != float64(len(tc.users)) || len(users) != len(tc.users) {
						t.Fatalf("list = %s, want %v", r.Raw, tc.users)
					}
					for i, u := range users {
						wantKeys(t, "user", u, userFields...)
						if name := u.(map[string]any)["username"]; name != tc.users[i] {
							t.Fatalf("users[%d] = %v, want %s", i, name, tc.users[i])
						}
					}
				})
			}
			wantNetKeyError(t, e.Do(t, "GET", "/api/v1/users", nil, f.key(t, f.acmeAdmin, "psks:read")...), 403, "FORBIDDEN")
		})

		t.Run("get", func(t *testing.T) {
			tests := []struct {
				name   string
				as     []string
				path   string
				status int
			}{
				{"200/group admin", servertest.Bearer(f.ga.token), acmeUser, 200},
				{"200/user reads its group", servertest.Bearer(f.usr.token), fmt.Sprintf("/api/v1/users/%d", f.acmeAdmin.ID), 200},
				{"200/super admin", servertest.Bearer(f.root.token), globexUser, 200},
				{"404/other group", servertest.Bearer(f.ga.token), globexUser, 404},
				{"404/other group, reverse", servertest.Bearer(f.gb.token), acmeUser, 404},
				{"404/missing", servertest.Bearer(f.root.token), "/api/v1/users/999999", 404},
				{"404/malformed id", servertest.Bearer(f.ga.token), "/api/v1/users/abc", 404},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(t, "GET", tc.path, nil, tc.as...)
					if tc.status != http.StatusOK {
						wantNetKeyError(t, r, tc.status, "USER_NOT_FOUND")
						return
					}
					if r.Status != http.StatusOK {
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					}
					wantKeys(t, "user", r.JSON, userFields...)
				})
			}
		})

		t.Run("update", func(t *testing.T) {
			// Promotion ends the promoted user's sessions: use a user nobody logged in as.
			extra := fmt.Sprintf("/api/v1/users/%d", e.CreateUser(t, "extra", password, identity.RoleUser, "acme").ID)
			tests := []struct {
				name   string
				as     []string
				path   string
				body   any
				status int
				code   string
				check  func(m map[string]any) bool
			}{
				{"200/group admin renames", servertest.Bearer(f.ga.token), acmeUser, map[string]any{"full_name": "Ursula"}, 200, "",
					func(m map[string]any) bool { return m["full_name"] == "Ursula" && m["email"] == "usr@example.com" }},
				{"200/group admin promotes", servertest.Bearer(f.ga.token), extra, map[string]any{"role": "GROUP_ADMIN", "email": "u2@example.com"}, 200, "",
					func(m map[string]any) bool {
						return m["role"] == "GROUP_ADMIN" && m["email"] == "u2@example.com" && m["full_name"] == ""
					}},
				{"200/deactivate", servertest.Bearer(f.gb.token), globexUser, map[string]any{"is_active": false}, 200, "",
					func(m map[string]any) bool { return m["is_active"] == false }},
				{"200/user changes own name", servertest.Bearer(f.gb.token), fmt.Sprintf("/api/v1/users/%d", f.globexUser.ID-1), map[string]any{"full_name": "Gee"}, 200, "",
					func(m map[string]any) bool { return m["full_name"] == "Gee" }},
				{"400/bad json", servertest.Bearer(f.ga.token), acmeUser, `{"full_name"`, 400, "VALIDATION_ERROR", nil},
				{"400/short password", servertest.Bearer(f.ga.token), acmeUser, map[string]any{"password": "short"}, 400, "VALIDATION_ERROR", nil},
				{"400/unknown role", servertest.Bearer(f.ga.token), acmeUser, map[string]any{"role": "OWNER"}, 400, "VALIDATION_ERROR", nil},
				{"403/group admin grants super admin", servertest.Bearer(f.ga.token), acmeUser, map[string]any{"role": "SUPER_ADMIN"}, 403, "FORBIDDEN", nil},
				{"403/user changes another user", servertest.Bearer(f.usr.token), fmt.Sprintf("/api/v1/users/%d", f.acmeAdmin.ID), map[string]any{"full_name": "x"}, 403, "FORBIDDEN", nil},
				{"404/other group", servertest.Bearer(f.ga.token), globexUser, map[string]any{"full_name": "x"}, 404, "USER_NOT_FOUND", nil},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(t, "PUT", tc.path, tc.body, tc.as...)
					if tc.status != http.StatusOK {
						wantNetKeyError(t, r, tc.status, tc.code)
						return
					}
					if r.Status != http.StatusOK {
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					}
					wantKeys(t, "user", r.JSON, userFields...)
					if !tc.check(r.JSON) {
						t.Fatalf("updated = %s", r.Raw)
					}
				})
			}
		})

		t.Run("delete", func(t *testing.T) {
			wantNetKeyError(t, e.Do(t, "DELETE", globexUser, nil, servertest.Bearer(f.ga.token)...), 404, "USER_NOT_FOUND")
			wantNetKeyError(t, e.Do(t, "DELETE", fmt.Sprintf("/api/v1/users/%d", f.acmeAdmin.ID), nil, servertest.Bearer(f.usr.token)...), 403, "FORBIDDEN")
			r := e.Do(t, "DELETE", globexUser, nil, servertest.Bearer(f.gb.token)...)
			if r.Status != http.StatusOK {
				t.Fatalf("delete: %d %s", r.Status, r.Raw)
			}
			wantKeys(t, "delete", r.JSON, "success", "deleted_id")
			if r.JSON["success"] != true || r.JSON["deleted_id"] != float64(f.globexUser.ID) {
				t.Fatalf("delete = %s", r.Raw)
			}
			wantNetKeyError(t, e.Do(t, "GET", globexUser, nil, servertest.Bearer(f.gb.token)...), 404, "USER_NOT_FOUND")
			wantNetKeyError(t, e.Do(t, "DELETE", globexUser, nil, servertest.Bearer(f.gb.token)...), 404, "USER_NOT_FOUND")
		})
	})
}
