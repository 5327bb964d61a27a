package netrecon_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// nrLive is the documented format: nr_live_ and 48 hex characters.
var nrLive = regexp.MustCompile(`^nr_live_[0-9a-f]{48}$`)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
		alice, _ := e.Login(t, "alice", "password1")
		bob, _ := e.Login(t, "bob", "password1")

		bad := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"400/netkeep scope name", map[string]any{"name": "k", "permissions": []string{"psks:read"}}, 400, "BAD_REQUEST"},
			{"400/Nekzus scope name", map[string]any{"name": "k", "permissions": []string{"read:*"}}, 400, "BAD_REQUEST"},
			{"400/undocumented permission", map[string]any{"name": "k", "permissions": []string{"scans_read", "scans_delete"}}, 400, "BAD_REQUEST"},
			{"400/no permissions", map[string]any{"name": "k"}, 400, "BAD_REQUEST"},
			{"400/bidi override in name", map[string]any{"name": "ci\u202ekey", "permissions": []string{"scans_read"}}, 400, "BAD_REQUEST"},
			{"400/expiry in the past", map[string]any{"name": "k", "permissions": []string{"scans_read"}, "expires_at": time.Now().Add(-time.Hour)}, 400, "BAD_REQUEST"},
			{"400/bad json", `{"name":`, 400, "BAD_REQUEST"},
			{"401/no credential", map[string]any{"name": "k", "permissions": []string{"scans_read"}}, 401, "UNAUTHORIZED"},
		}
		for _, c := range bad {
			hdr := servertest.Bearer(alice)
			if c.status == 401 {
				hdr = nil
			}
			r := e.Do(t, "POST", "/api/v1/api-keys", c.body, hdr...)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/api-keys", nil, servertest.Bearer(alice)...); r.Status != 200 || len(r.Array) != 0 {
			t.Fatalf("refused creates stored keys: %d %s", r.Status, r.Raw)
		}

		// Permissions are echoed back as given, whatever they grant.
		expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		perms := []string{"scans_read", "devices_write", "users_manage", "api_keys_manage"}
		r := e.Do(t, "POST", "/api/v1/api-keys", map[string]any{"name": "CI", "permissions": perms, "expires_at": expires},
			servertest.Bearer(alice)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		key, id := r.JSON["key"].(string), r.JSON["id"].(string)
		if !nrLive.MatchString(key) || r.JSON["prefix"] != key[:10] || r.JSON["name"] != "CI" || !strings.HasPrefix(id, "key_") ||
			strings.Join(servertest.Strings(r.JSON["permissions"]), " ") != strings.Join(perms, " ") || r.JSON["expires_at"] != expires.Format(time.RFC3339) {
			t.Fatalf("create response: %s", r.Raw)
		}
		// api_keys_manage lets the key list keys, on NetRecon's path and
		// Nekzus's; the listing never shows a secret.
		for _, path := range []string{"/api/v1/api-keys", "/api/v1/apikeys"} {
			r := e.Do(t, "GET", path, nil, "X-API-Key", key)
			if r.Status != 200 || len(r.Array) != 1 || strings.Contains(string(r.Raw), key[10:]) {
				t.Fatalf("list %s: %d %s", path, r.Status, r.Raw)
			}
		}
		r = e.Do(t, "GET", "/api/v1/api-keys/"+id, nil, servertest.Bearer(alice)...)
		if r.Status != 200 || r.JSON["id"] != id || strings.Join(servertest.Strings(r.JSON["permissions"]), " ") != strings.Join(perms, " ") ||
			r.JSON["revoked_at"] != nil || r.JSON["created_by"] != "alice" {
			t.Fatalf("get: %d %s", r.Status, r.Raw)
		}

		// Another group sees nothing and can neither revoke nor delete it.
		if r := e.Do(t, "GET", "/api/v1/api-keys", nil, servertest.Bearer(bob)...); r.Status != 200 || len(r.Array) != 0 {
			t.Fatalf("bob lists alice's keys: %d %s", r.Status, r.Raw)
		}
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/api-keys/" + id},
			{"DELETE", "/api/v1/api-keys/" + id},
			{"DELETE", "/api/v1/api-keys/" + id + "?permanent=true"},
		} {
			if r := e.Do(t, c.method, c.path, nil, servertest.Bearer(bob)...); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
				t.Fatalf("bob %s %s: %d %s", c.method, c.path, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, "X-API-Key", key); r.Status != 200 {
			t.Fatalf("key stopped working after bob's attempts: %d %s", r.Status, r.Raw)
		}

		// DELETE revokes, as documented: the key stops working at once.
		r = e.Do(t, "DELETE", "/api/v1/api-keys/"+id, nil, servertest.Bearer(alice)...)
		if r.Status != 200 || r.JSON["message"] != "API key revoked successfully" {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, "X-API-Key", key); r.Status != 401 {
			t.Fatalf("revoked key works: %d", r.Status)
		}
		if r := e.Do(t, "GET", "/api/v1/api-keys/"+id, nil, servertest.Bearer(alice)...); r.Status != 200 || r.JSON["revoked_at"] == nil {
			t.Fatalf("revoked key: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/v1/api-keys/"+id+"?permanent=true", nil, servertest.Bearer(alice)...); r.Status != 200 {
			t.Fatalf("permanent delete: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/api-keys/"+id, nil, servertest.Bearer(alice)...); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
			t.Fatalf("deleted key still found: %d %s", r.Status, r.Raw)
		}
	})
}
