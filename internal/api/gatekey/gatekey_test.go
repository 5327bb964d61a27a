package gatekey_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

const password = "correct-horse-battery"

var userFields = []string{"id", "username", "email", "name", "role", "is_admin", "is_active",
	"group_id", "group_name", "mfa_enabled", "last_login", "created_at"}

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

// wantError fails unless r is GateKey's {"error": {"code", "message"}} with
// status and the lower-case code.
func wantError(tb testing.TB, r *servertest.Response, status int, code string) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	e, ok := r.JSON["error"].(map[string]any)
	if !ok || e["message"] == "" || e["message"] == nil {
		tb.Fatalf("not a GateKey error envelope: %s", r.Raw)
	}
	if e["code"] != code {
		tb.Fatalf("code = %v, want %s", e["code"], code)
	}
}

func login(tb testing.TB, e *servertest.Env, username string) string {
	tb.Helper()
	r := e.Do(tb, "POST", "/api/v1/auth/local/login", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", username, r.Status, r.Raw)
	}
	return r.JSON["data"].(map[string]any)["token"].(string)
}

func TestLocalLogin(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		u := e.CreateUser(t, "alice", password, identity.GroupAdmin, "acme")
		m := e.CreateUser(t, "mfa", password, identity.RoleUser, "acme")
		ctx := context.Background()
		enr, err := e.Server.Identity.SetupMFA(ctx, &authz.Principal{Kind: authz.KindUser, UserID: m.ID}, servertest.Src)
		if err != nil {
			t.Fatal(err)
		}
		code := func(offset time.Duration) string {
			c, err := identity.TOTPCode(enr.Secret, time.Now().Add(offset))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if err := e.Server.Identity.EnableMFA(ctx, &authz.Principal{Kind: authz.KindUser, UserID: m.ID}, servertest.Src, code(-30*time.Second)); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"200/username", map[string]string{"username": "alice", "password": password}, 200, ""},
			{"200/email", map[string]string{"username": "alice@example.com", "password": password}, 200, ""},
			{"200/mfa with code", map[string]string{"username": "mfa", "password": password, "totp_code": code(0)}, 200, ""},
			{"400/bad json", `{"username"`, 400, "invalid"},
			{"400/missing password", map[string]string{"username": "alice"}, 400, "invalid"},
			{"401/wrong password", map[string]string{"username": "alice", "password": "wrong-password"}, 401, "invalid_credentials"},
			{"401/mfa without code", map[string]string{"username": "mfa", "password": password}, 401, "mfa_required"},
			{"401/mfa with wrong code", map[string]string{"username": "mfa", "password": password, "totp_code": "12345x"}, 401, "invalid_totp"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "POST", "/api/v1/auth/local/login", tc.body)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				wantKeys(t, "body", r.JSON, "data")
				data := r.JSON["data"].(map[string]any)
				wantKeys(t, "data", data, "token", "expires_at", "user")
				exp, err := time.Parse(time.RFC3339, data["expires_at"].(string))
				if err != nil || exp.Before(time.Now().Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
					t.Fatalf("expires_at = %v", data["expires_at"])
				}
				wantKeys(t, "user", data["user"], userFields...)
			})
		}
		if r := e.Do(t, "POST", "/api/v1/auth/local/login", map[string]string{"username": "alice", "password": password}); r.JSON["data"].(map[string]any)["user"].(map[string]any)["id"] != float64(u.ID) {
			t.Fatalf("user id: %s", r.Raw)
		}
	})
}

func TestSession(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		u := e.CreateUser(t, "alice", password, identity.RoleUser, "acme")
		token := login(t, e, "alice")
		expired, err := e.Server.Identity.Signer().Sign(&identity.AccessClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: identity.Issuer, Subject: strconv.FormatInt(u.ID, 10), Audience: jwt.ClaimStrings{identity.AudienceAPI},
				IssuedAt: jwt.NewNumericDate(time.Now().Add(-2 * time.Hour)), ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Hour)),
			},
			SessionID: "s", Role: identity.RoleUser, GroupID: u.GroupID, Username: u.Username,
		})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name    string
			headers []string
			status  int
			user    string
		}{
			{"200/user session", servertest.Bearer(token), 200, "alice"},
			{"200/master key", servertest.Master(), 200, "master"},
			{"401/no credential", nil, 401, ""},
			{"401/expired", servertest.Bearer(expired), 401, ""},
			{"401/tampered", servertest.Bearer(token[:len(token)-2] + "xx"), 401, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, "GET", "/api/v1/auth/session", nil, tc.headers...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, "unauthorized")
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				data := r.JSON["data"].(map[string]any)
				if data["authenticated"] != true || data["user"].(map[string]any)["username"] != tc.user {
					t.Fatalf("session = %s", r.Raw)
				}
				if tc.user == "alice" {
					wantKeys(t, "data", data, "user", "expires_at", "authenticated")
					wantKeys(t, "user", data["user"], userFields...)
					if _, err := time.Parse(time.RFC3339, data["expires_at"].(string)); err != nil {
						t.Fatalf("expires_at: %v", err)
					}
				}
			})
		}
	})
}

func TestAdminUsers(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "root", password, identity.SuperAdmin, "default")
		e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme")
		e.CreateUser(t, "usr", password, identity.RoleUser, "acme")
		e.CreateUser(t, "gb", password, identity.GroupAdmin, "globex")
		for i := range 23 {
			e.CreateUser(t, fmt.Sprintf("g%02d", i), password, identity.RoleUser, "globex")
		}
		root, ga, usr, gb := login(t, e, "root"), login(t, e, "ga"), login(t, e, "usr"), login(t, e, "gb")

		tests := []struct {
			name                 string
			token, query         string
			status               int
			code                 string
			total, page, perPage int
			first                string
			count                int
		}{
			{name: "200/group admin, defaults", token: ga, status: 200, total: 2, page: 1, perPage: 20, first: "ga", count: 2},
			{name: "200/other group sees only its own", token: gb, status: 200, total: 24, page: 1, perPage: 20, first: "gb", count: 20},
			{name: "200/second page", token: gb, query: "?page=2&per_page=10", status: 200, total: 24, page: 2, perPage: 10, first: "g09", count: 10},
			{name: "200/last page", token: gb, query: "?page=3&per_page=10", status: 200, total: 24, page: 3, perPage: 10, first: "g19", count: 4},
			{name: "200/past the end", token: gb, query: "?page=9", status: 200, total: 24, page: 9, perPage: 20, count: 0},
			{name: "200/per_page capped at 100", token: root, query: "?per_page=500", status: 200, total: 27, page: 1, perPage: 100, first: "root", count: 27},
			{name: "400/page zero", token: ga, query: "?page=0", status: 400, code: "invalid"},
			{name: "400/per_page not a number", token: ga, query: "?per_page=ten", status: 400, code: "invalid"},
			{name: "403/user", token: usr, status: 403, code: "forbidden"},
			{name: "401/no credential", status: 401, code: "unauthorized"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var h []string
				if tc.token != "" {
					h = servertest.Bearer(tc.token)
				}
				r := e.Do(t, "GET", "/api/v1/admin/users"+tc.query, nil, h...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				wantKeys(t, "body", r.JSON, "data", "meta")
				wantKeys(t, "meta", r.JSON["meta"], "total", "page", "per_page")
				meta := r.JSON["meta"].(map[string]any)
				if meta["total"] != float64(tc.total) || meta["page"] != float64(tc.page) || meta["per_page"] != float64(tc.perPage) {
					t.Fatalf("meta = %v", meta)
				}
				data, ok := r.JSON["data"].([]any)
				if !ok || len(data) != tc.count {
					t.Fatalf("data has %d users, want %d: %s", len(data), tc.count, r.Raw)
				}
				if tc.count > 0 {
					wantKeys(t, "user", data[0], userFields...)
					if name := data[0].(map[string]any)["username"]; name != tc.first {
						t.Fatalf("first user = %v, want %s", name, tc.first)
					}
				}
			})
		}
	})
}
