package netrecon_test

import (
	"net/http"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// TestEveryFormatOnEveryDialect checks that there is one key model: a key
// of any format, created through its own path, is accepted by every
// dialect's authenticated routes as X-API-Key and as Bearer, and allowed
// exactly what its scope names map to. A key holding only NetRecon
// permissions netkeep has no counterpart for is accepted and allowed
// nothing, refused in each dialect's envelope.
func TestEveryFormatOnEveryDialect(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		alice, _ := e.Login(t, "alice", "password1")
		create := func(path string, body map[string]any) string {
			t.Helper()
			r := e.Do(t, "POST", path, body, servertest.Bearer(alice)...)
			if r.Status != http.StatusCreated {
				t.Fatalf("creating %v through %s: %d %s", body, path, r.Status, r.Raw)
			}
			return r.JSON["key"].(string)
		}
		netkeep := []string{"users:read", "psks:read", "apikeys:manage"}
		keys := map[string]string{
			"nk_":      create("/api/v1/apikeys", map[string]any{"name": "nk", "scopes": netkeep}),
			"gk_":      create("/api/v1/apikeys", map[string]any{"name": "gk", "scopes": netkeep, "format": "gk"}),
			"nekzus_":  create("/api/v1/apikeys", map[string]any{"name": "nekzus", "scopes": []string{"access:admin"}}),
			"nr_live_": create("/api/v1/api-keys", map[string]any{"name": "nr", "permissions": []string{"users_manage", "api_keys_manage"}}),
			"unmapped": create("/api/v1/api-keys", map[string]any{"name": "scans", "permissions": []string{"scans_read", "billing"}}),
		}
		for format, prefix := range map[string]string{"nk_": "nk_", "gk_": "gk_", "nekzus_": "nekzus_", "nr_live_": "nr_live_", "unmapped": "nr_live_"} {
			if k := keys[format]; len(k) < len(prefix) || k[:len(prefix)] != prefix {
				t.Fatalf("%s key %q", format, k)
			}
		}

		routes := []struct {
			dialect string
			path    string
			refused map[string]bool // formats whose key lacks the route's scope
			code    func(*servertest.Response) string
		}{
			{"NetKey users", "/api/v1/users", nil, netKeyCode},
			{"NetKey PSKs", "/api/v1/psks", map[string]bool{"nr_live_": true}, netKeyCode},
			{"Netmaker", "/api/users/alice", nil, (*servertest.Response).ErrorCode},
			{"GateKey", "/api/v1/admin/users", nil, (*servertest.Response).ErrorCode},
			{"Nekzus", "/api/v1/apikeys", nil, (*servertest.Response).ErrorCode},
			{"NetRecon", "/api/v1/api-keys", nil, (*servertest.Response).ErrorCode},
		}
		forbidden := map[string]string{"NetKey users": "FORBIDDEN", "NetKey PSKs": "FORBIDDEN", "Netmaker": "FORBIDDEN",
			"GateKey": "forbidden", "Nekzus": "FORBIDDEN", "NetRecon": "FORBIDDEN"}
		for _, rt := range routes {
			for format, key := range keys {
				for _, hdr := range [][]string{{"X-API-Key", key}, servertest.Bearer(key)} {
					r := e.Do(t, "GET", rt.path, nil, hdr...)
					if format == "unmapped" || rt.refused[format] {
						if r.Status != http.StatusForbidden || rt.code(r) != forbidden[rt.dialect] {
							t.Errorf("%s key (%s) on %s: %d %s, want 403 %s", format, hdr[0], rt.dialect, r.Status, r.Raw, forbidden[rt.dialect])
						}
						continue
					}
					if r.Status != http.StatusOK {
						t.Errorf("%s key (%s) on %s: %d %s, want 200", format, hdr[0], rt.dialect, r.Status, r.Raw)
					}
				}
			}
		}
	})
}

// netKeyCode is the code of NetKey's {"success": false, "code"} envelope.
func netKeyCode(r *servertest.Response) string {
	if r.JSON["success"] != false {
		return ""
	}
	code, _ := r.JSON["code"].(string)
	return code
}
