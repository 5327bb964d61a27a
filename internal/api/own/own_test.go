package own_test

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

const password = "correct-horse-battery"

func wantGroup(tb testing.TB, m any, name string) {
	tb.Helper()
	g, ok := m.(map[string]any)
	if !ok {
		tb.Fatalf("not an object: %#v", m)
	}
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"created_at", "id", "name"}) {
		tb.Fatalf("group keys = %v", keys)
	}
	if g["name"] != name {
		tb.Fatalf("group name = %v, want %s", g["name"], name)
	}
	if _, err := time.Parse(time.RFC3339, g["created_at"].(string)); err != nil {
		tb.Fatalf("created_at: %v", err)
	}
}

func wantError(tb testing.TB, r *servertest.Response, status int, code string) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	e, ok := r.JSON["error"].(map[string]any)
	if !ok || e["message"] == nil || e["code"] != code {
		tb.Fatalf("want error %s, got %s", code, r.Raw)
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "root", password, identity.SuperAdmin, "default")
		acme := e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme").GroupID
		e.CreateUser(t, "usr", password, identity.RoleUser, "acme")
		globex := e.CreateUser(t, "gb", password, identity.GroupAdmin, "globex").GroupID
		login := func(name string) []string {
			access, _ := e.Login(t, name, password)
			return servertest.Bearer(access)
		}
		root, ga, usr := login("root"), login("ga"), login("usr")

		t.Run("list", func(t *testing.T) {
			tests := []struct {
				name   string
				as     []string
				status int
				groups []string
			}{
				{"200/super admin sees every group", root, 200, []string{"default", "acme", "globex"}},
				{"200/master key sees every group", servertest.Master(), 200, []string{"default", "acme", "globex"}},
				{"200/group admin sees its own", ga, 200, []string{"acme"}},
				{"200/user sees its own", usr, 200, []string{"acme"}},
				{"401/anonymous", nil, 401, nil},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(t, "GET", "/api/v1/groups", nil, tc.as...)
					if tc.status != http.StatusOK {
						wantError(t, r, tc.status, map[int]string{401: "UNAUTHORIZED", 403: "FORBIDDEN"}[tc.status])
						return
					}
					if r.Status != http.StatusOK || r.JSON["total"] != float64(len(tc.groups)) {
						t.Fatalf("list: %d %s", r.Status, r.Raw)
					}
					groups := r.JSON["groups"].([]any)
					if len(groups) != len(tc.groups) || len(r.JSON) != 2 {
						t.Fatalf("list = %s, want %v", r.Raw, tc.groups)
					}
					for i, g := range groups {
						wantGroup(t, g, tc.groups[i])
					}
				})
			}
		})

		var created float64
		t.Run("create", func(t *testing.T) {
			tests := []struct {
				name   string
				as     []string
				body   any
				status int
				code   string
			}{
				{"201/super admin", root, map[string]string{"name": "initech"}, 201, ""},
				{"400/bad json", root, `{"name":`, 400, "BAD_REQUEST"},
				{"400/missing name", root, map[string]string{}, 400, "BAD_REQUEST"},
				{"409/duplicate", root, map[string]string{"name": "ACME"}, 409, "CONFLICT"},
				{"403/group admin", ga, map[string]string{"name": "mine"}, 403, "FORBIDDEN"},
				{"403/user", usr, map[string]string{"name": "mine"}, 403, "FORBIDDEN"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(t, "POST", "/api/v1/groups", tc.body, tc.as...)
					if tc.status != http.StatusCreated {
						wantError(t, r, tc.status, tc.code)
						return
					}
					if r.Status != http.StatusCreated {
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					}
					wantGroup(t, r.JSON, "initech")
					created = r.JSON["id"].(float64)
				})
			}
		})
		initech := fmt.Sprintf("/api/v1/groups/%d", int64(created))

		t.Run("get, rename, delete", func(t *testing.T) {
			tests := []struct {
				name   string
				method string
				path   string
				as     []string
				body   any
				status int
				code   string
				group  string
			}{
				{"200/group admin gets its group", "GET", fmt.Sprintf("/api/v1/groups/%d", acme), ga, nil, 200, "", "acme"},
				{"200/super admin gets any", "GET", fmt.Sprintf("/api/v1/groups/%d", globex), root, nil, 200, "", "globex"},
				{"404/other group", "GET", fmt.Sprintf("/api/v1/groups/%d", globex), ga, nil, 404, "NOT_FOUND", ""},
				{"404/missing", "GET", "/api/v1/groups/99999", root, nil, 404, "NOT_FOUND", ""},
				{"404/malformed id", "GET", "/api/v1/groups/abc", root, nil, 404, "NOT_FOUND", ""},
				{"200/rename", "PUT", initech, root, map[string]string{"name": "initrode"}, 200, "", "initrode"},
				{"400/rename bad json", "PUT", initech, root, `{`, 400, "BAD_REQUEST", ""},
				{"400/rename empty", "PUT", initech, root, map[string]string{"name": " "}, 400, "BAD_REQUEST", ""},
				{"409/rename to a taken name", "PUT", initech, root, map[string]string{"name": "globex"}, 409, "CONFLICT", ""},
				{"403/group admin renames its group", "PUT", fmt.Sprintf("/api/v1/groups/%d", acme), ga, map[string]string{"name": "x"}, 403, "FORBIDDEN", ""},
				{"404/group admin renames another group", "PUT", fmt.Sprintf("/api/v1/groups/%d", globex), ga, map[string]string{"name": "x"}, 404, "NOT_FOUND", ""},
				{"403/group admin deletes its group", "DELETE", fmt.Sprintf("/api/v1/groups/%d", acme), ga, nil, 403, "FORBIDDEN", ""},
				{"409/delete a group with users", "DELETE", fmt.Sprintf("/api/v1/groups/%d", acme), root, nil, 409, "CONFLICT", ""},
				{"204/delete", "DELETE", initech, root, nil, 204, "", ""},
				{"404/get deleted", "GET", initech, root, nil, 404, "NOT_FOUND", ""},
				{"404/delete again", "DELETE", initech, root, nil, 404, "NOT_FOUND", ""},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := e.Do(t, tc.method, tc.path, tc.body, tc.as...)
					switch {
					case tc.status == http.StatusNoContent:
						if r.Status != http.StatusNoContent || len(r.Raw) != 0 {
							t.Fatalf("delete: %d %s", r.Status, r.Raw)
						}
					case tc.status != http.StatusOK:
						wantError(t, r, tc.status, tc.code)
					case r.Status != http.StatusOK:
						t.Fatalf("status = %d: %s", r.Status, r.Raw)
					default:
						wantGroup(t, r.JSON, tc.group)
					}
				})
			}
		})
	})
}

// TestDeleteGroupThatOwnsObjects: a group whose users are gone but which
// still owns a PSK and a mesh network is refused with 409 and a message
// naming them, not a 500 from a foreign key, and nothing is deleted; once
// emptied, it deletes.
func TestDeleteGroupThatOwnsObjects(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		master := servertest.Master()
		asAdmin := func(name string) (*identity.User, []string) {
			u := e.CreateUser(t, name, password, identity.GroupAdmin, "hooli")
			access, _ := e.Login(t, name, password)
			return u, servertest.Bearer(access)
		}
		deleteUser := func(u *identity.User) {
			if r := e.Do(t, "DELETE", fmt.Sprintf("/api/v1/users/%d", u.ID), nil, master...); r.Status != http.StatusOK {
				t.Fatalf("delete user: %d %s", r.Status, r.Raw)
			}
		}
		first, ha := asAdmin("ha")
		r := e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "lobby"}, ha...)
		if r.Status != http.StatusCreated {
			t.Fatalf("create psk: %d %s", r.Status, r.Raw)
		}
		psk := fmt.Sprintf("/api/v1/psks/%v", r.JSON["id"])
		if r := e.Do(t, "POST", "/api/networks", map[string]any{"netid": "hoolinet", "addressrange": "10.61.0.0/24"}, ha...); r.Status != http.StatusOK {
			t.Fatalf("create network: %d %s", r.Status, r.Raw)
		}
		deleteUser(first)
		group := fmt.Sprintf("/api/v1/groups/%d", first.GroupID)

		r = e.Do(t, "DELETE", group, nil, master...)
		wantError(t, r, http.StatusConflict, "CONFLICT")
		if msg := r.JSON["error"].(map[string]any)["message"]; msg != "the group still has PSKs and mesh networks; move or delete them first" {
			t.Fatalf("message = %v", msg)
		}

		second, hb := asAdmin("hb")
		if r := e.Do(t, "GET", psk, nil, hb...); r.Status != http.StatusOK {
			t.Fatalf("psk after a refused delete: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "DELETE", psk, nil, hb...); r.Status != http.StatusOK {
			t.Fatalf("delete psk: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/networks/hoolinet", nil, hb...); r.Status != http.StatusOK {
			t.Fatalf("delete network: %d %s", r.Status, r.Raw)
		}
		deleteUser(second)
		if r := e.Do(t, "DELETE", group, nil, master...); r.Status != http.StatusNoContent {
			t.Fatalf("delete emptied group: %d %s", r.Status, r.Raw)
		}
	})
}
