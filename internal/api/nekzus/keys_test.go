package nekzus_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api/apitest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

var (
	nekzusKey  = regexp.MustCompile(`^nekzus_[0-9a-f]{64}$`)
	netkeyKey  = regexp.MustCompile(`^nk_[0-9A-Za-z]{43}$`)
	gatekeyKey = regexp.MustCompile(`^gk_[0-9A-Za-z]{43}$`)
)

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
			{"400/unknown scope", map[string]any{"name": "k", "scopes": []string{"psks:eat"}}, 400, "BAD_REQUEST"},
			{"400/unknown Nekzus scope", map[string]any{"name": "k", "scopes": []string{"read:catalog", "read:everything"}}, 400, "BAD_REQUEST"},
			{"400/NetRecon permission", map[string]any{"name": "k", "scopes": []string{"scans_read"}}, 400, "BAD_REQUEST"},
			{"400/Nekzus and netkeep scopes mixed", map[string]any{"name": "k", "scopes": []string{"read:catalog", "psks:read"}}, 400, "BAD_REQUEST"},
			{"400/unknown format", map[string]any{"name": "k", "scopes": []string{"psks:read"}, "format": "sk_live"}, 400, "BAD_REQUEST"},
			{"400/no name", map[string]any{"scopes": []string{"psks:read"}}, 400, "BAD_REQUEST"},
			{"400/control character in name", map[string]any{"name": "ci\u0007", "scopes": []string{"psks:read"}}, 400, "BAD_REQUEST"},
			{"400/expired", map[string]any{"name": "k", "scopes": []string{"psks:read"}, "expiresAt": time.Now().Add(-time.Hour)}, 400, "BAD_REQUEST"},
			{"400/rate too high", map[string]any{"name": "k", "scopes": []string{"psks:read"}, "rate_limit_per_minute": 501}, 400, "BAD_REQUEST"},
			{"403/scope beyond role", map[string]any{"name": "k", "scopes": []string{"groups:write"}}, 403, "FORBIDDEN"},
		}
		for _, c := range bad {
			r := e.Do(t, "POST", "/api/v1/apikeys", c.body, servertest.Bearer(alice)...)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/apikeys", nil, servertest.Bearer(alice)...); r.Status != 200 || len(r.Array) != 0 {
			t.Fatalf("refused creates stored keys: %s", r.Raw)
		}

		// Nekzus scopes give a nekzus_ key, echoed back as given.
		expires := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
		r := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "Production CI/CD Pipeline",
			"scopes": []string{"read:catalog", "read:events"}, "expiresAt": expires}, servertest.Bearer(alice)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/apikeys_create.json")
		key, id := r.JSON["key"].(string), r.JSON["id"].(string)
		if !nekzusKey.MatchString(key) || !strings.HasPrefix(id, "key_") || r.JSON["prefix"] != key[:10] ||
			strings.Join(servertest.Strings(r.JSON["scopes"]), " ") != "read:catalog read:events" {
			t.Fatalf("create response: %s", r.Raw)
		}
		// read:catalog grants the catalog, not the audit log.
		if r := e.Do(t, "GET", "/api/v1/audit-logs", nil, "X-API-Key", key); r.Status != 403 || r.ErrorCode() != "FORBIDDEN" {
			t.Fatalf("read:catalog key read the audit log: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "GET", "/api/v1/apikeys", nil, servertest.Bearer(alice)...)
		if r.Status != 200 || len(r.Array) != 1 || strings.Contains(string(r.Raw), key) {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/apikeys_list.json")
		if got := servertest.Strings(r.Array[0].(map[string]any)["scopes"]); strings.Join(got, " ") != "read:catalog read:events" {
			t.Fatalf("listed scopes %v, want them as given", got)
		}

		// netkeep's own names give an nk_ key; "format" asks for GateKey's.
		for _, c := range []struct {
			name  string
			body  map[string]any
			shape *regexp.Regexp
		}{
			{"nk_", map[string]any{"name": "nk", "scopes": []string{"psks:read"}}, netkeyKey},
			{"gk_", map[string]any{"name": "gk", "scopes": []string{"gateways:read"}, "format": "gk"}, gatekeyKey},
		} {
			r := e.Do(t, "POST", "/api/v1/apikeys", c.body, servertest.Bearer(alice)...)
			if r.Status != 201 || !c.shape.MatchString(r.JSON["key"].(string)) {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
			apitest.AssertShape(t, r.Raw, "testdata/seed/apikeys_create.json")
		}

		// A key of every format works as X-API-Key and as Bearer, with
		// rate-limit headers.
		r = e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "ci", "scopes": []string{"read:*"}, "rate_limit_per_minute": 3},
			servertest.Bearer(alice)...)
		if r.Status != 201 || !nekzusKey.MatchString(r.JSON["key"].(string)) {
			t.Fatalf("create read:*: %d %s", r.Status, r.Raw)
		}
		key, id = r.JSON["key"].(string), r.JSON["id"].(string)
		r = e.Do(t, "GET", "/api/v1/audit-logs", nil, "X-API-Key", key)
		if r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "3" || r.Header.Get("X-RateLimit-Remaining") != "2" {
			t.Fatalf("with key: %d %v %s", r.Status, r.Header, r.Raw)
		}
		if reset, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64); err != nil || reset < time.Now().Unix() {
			t.Fatalf("X-RateLimit-Reset %q", r.Header.Get("X-RateLimit-Reset"))
		}
		if r := e.Do(t, "GET", "/api/v1/audit-logs", nil, servertest.Bearer(key)...); r.Status != 200 {
			t.Fatalf("bearer key: %d", r.Status)
		}
		// A read-only key cannot create keys.
		if r := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "x", "scopes": []string{"psks:read"}}, "X-API-Key", key); r.Status != 403 {
			t.Fatalf("read key created a key: %d %s", r.Status, r.Raw)
		}
		// The limit of 3/minute is spent: 429 with Retry-After.
		r = e.Do(t, "GET", "/api/v1/audit-logs", nil, "X-API-Key", key)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("over the limit: %d %v", r.Status, r.Header)
		}
		if r.ErrorCode() != "RATE_LIMIT_EXCEEDED" {
			t.Fatalf("429 envelope: %s", r.Raw)
		}
		// Another group sees nothing and cannot touch it.
		if r := e.Do(t, "GET", "/api/v1/apikeys", nil, servertest.Bearer(bob)...); r.Status != 200 || len(r.Array) != 0 {
			t.Fatalf("bob lists alice's keys: %s", r.Raw)
		}
		for _, m := range []string{"GET", "DELETE"} {
			if r := e.Do(t, m, "/api/v1/apikeys/"+id, nil, servertest.Bearer(bob)...); r.Status != 404 || r.ErrorCode() != "NOT_FOUND" {
				t.Fatalf("bob %s alice's key: %d", m, r.Status)
			}
		}
		if r := e.Do(t, "DELETE", "/api/v1/apikeys/"+id+"?permanent=true", nil, servertest.Bearer(bob)...); r.Status != 404 {
			t.Fatalf("bob deletes alice's key: %d", r.Status)
		}
		if r := e.Do(t, "GET", "/api/v1/apikeys/"+id, nil, servertest.Bearer(alice)...); r.Status != 200 || r.JSON["id"] != id || r.JSON["revokedAt"] != nil {
			t.Fatalf("get after bob's attempts: %d %s", r.Status, r.Raw)
		}
		// Revoke: the key stops working at once.
		r = e.Do(t, "DELETE", "/api/v1/apikeys/"+id, nil, servertest.Bearer(alice)...)
		if r.Status != 200 || r.JSON["message"] != "API key revoked successfully" {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/apikeys_delete.json")
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, "X-API-Key", key); r.Status != 401 {
			t.Fatalf("revoked key works: %d", r.Status)
		}
		if r := e.Do(t, "DELETE", "/api/v1/apikeys/"+id+"?permanent=true", nil, servertest.Bearer(alice)...); r.Status != 200 || r.JSON["message"] != "API key deleted successfully" {
			t.Fatalf("permanent delete: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/apikeys/"+id, nil, servertest.Bearer(alice)...); r.Status != 404 {
			t.Fatalf("deleted key still found: %d", r.Status)
		}
	})
}
