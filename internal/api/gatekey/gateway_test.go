package gatekey_test

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

var (
	userGatewayFields  = []string{"id", "name", "description", "hostname", "port", "protocol", "vpn_type", "status", "last_heartbeat", "endpoint"}
	adminGatewayFields = append(append([]string(nil), userGatewayFields...), "group_id", "vpn_subnet", "config_version",
		"agent_version", "public_key", "cert_serial", "cert_expires_at", "created_at", "updated_at", "is_provisioned")
)

func TestAdminGatewayCreate(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		long := strings.Repeat("a", 65)
		tests := []struct {
			name   string
			token  string
			body   any
			status int
			code   string
		}{
			{"201/defaults", f.admin, map[string]any{"name": "us-east-1", "hostname": "vpn-us-east.example.com"}, 201, ""},
			{"201/everything", f.admin, map[string]any{"name": "eu", "description": "EU", "hostname": "192.0.2.10", "port": 443,
				"protocol": "TCP", "vpn_type": "wireguard", "vpn_subnet": "10.9.0.0/24"}, 201, ""},
			{"400/bad json", f.admin, `{"name":`, 400, "invalid"},
			{"400/no name", f.admin, map[string]any{"hostname": "h.example.com"}, 400, "invalid"},
			{"400/long name", f.admin, map[string]any{"name": long, "hostname": "h.example.com"}, 400, "invalid"},
			{"400/no hostname", f.admin, map[string]any{"name": "x"}, 400, "invalid"},
			{"400/bad hostname", f.admin, map[string]any{"name": "x", "hostname": "not a host"}, 400, "invalid"},
			{"400/port zero", f.admin, map[string]any{"name": "x", "hostname": "h.example.com", "port": 0}, 400, "invalid"},
			{"400/port too big", f.admin, map[string]any{"name": "x", "hostname": "h.example.com", "port": 70000}, 400, "invalid"},
			{"400/protocol", f.admin, map[string]any{"name": "x", "hostname": "h.example.com", "protocol": "sctp"}, 400, "invalid"},
			{"400/vpn_type", f.admin, map[string]any{"name": "x", "hostname": "h.example.com", "vpn_type": "ipsec"}, 400, "invalid"},
			{"400/subnet host bits", f.admin, map[string]any{"name": "x", "hostname": "h.example.com", "vpn_subnet": "10.8.0.1/24"}, 400, "invalid"},
			{"400/subnet too small", f.admin, map[string]any{"name": "x", "hostname": "h.example.com", "vpn_subnet": "10.8.0.0/31"}, 400, "invalid"},
			{"409/duplicate name", f.admin, map[string]any{"name": "us-east-1", "hostname": "h.example.com"}, 409, "conflict"},
			{"404/another group", f.admin, map[string]any{"name": "y", "hostname": "h.example.com", "group_id": f.globexAdmin.GroupID}, 404, "not_found"},
			{"403/user", f.user, map[string]any{"name": "z", "hostname": "h.example.com"}, 403, "forbidden"},
			{"401/no credential", "", map[string]any{"name": "z", "hostname": "h.example.com"}, 401, "unauthorized"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := f.do(t, tc.token, "POST", "/api/v1/admin/gateways", tc.body)
				if tc.status != http.StatusCreated {
					wantError(t, r, tc.status, tc.code)
					return
				}
				d := want(t, r, http.StatusCreated)
				wantKeys(t, "gateway", d, slices.Concat(adminGatewayFields, []string{"token"})...)
				tok := d["token"].(string)
				if !strings.HasPrefix(tok, "gwt_") || len(tok) < 40 {
					t.Fatalf("token = %q", tok)
				}
				if d["status"] != "offline" || d["last_heartbeat"] != nil || d["group_id"] != float64(f.acmeAdmin.GroupID) ||
					!strings.HasPrefix(d["id"].(string), "gw-") || d["config_version"] != float64(1) {
					t.Fatalf("gateway = %v", d)
				}
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("a response with a token must not be cached")
				}
				// Only the token's SHA-256 is stored.
				var stored []byte
				if err := e.DB.SQL().QueryRow(`SELECT token_hash FROM gateways WHERE id = $1`, d["id"]).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256([]byte(tok))
				if string(stored) != string(sum[:]) {
					t.Fatal("the stored token is not its SHA-256")
				}
				f.audited(t, "gateway.create", "gateway:"+d["id"].(string))
			})
		}
		// The defaults and normalisation of the two created gateways.
		list := f.do(t, f.admin, "GET", "/api/v1/admin/gateways", nil)
		want(t, list, 200)
		data := list.JSON["data"].([]any)
		if len(data) != 2 || f.count(t, "gateways") != 2 {
			t.Fatalf("gateways after the table: %s", list.Raw)
		}
		eu, us := data[0].(map[string]any), data[1].(map[string]any)
		if us["port"] != float64(1194) || us["protocol"] != "udp" || us["vpn_type"] != "openvpn" || us["vpn_subnet"] != "10.8.0.0/24" {
			t.Fatalf("defaults: %v", us)
		}
		if eu["port"] != float64(443) || eu["protocol"] != "tcp" || eu["vpn_type"] != "wireguard" || eu["hostname"] != "192.0.2.10" {
			t.Fatalf("given: %v", eu)
		}
		// A SUPER_ADMIN (here the master key) places a gateway in any group.
		d := want(t, e.Do(t, "POST", "/api/v1/admin/gateways", map[string]any{"name": "g", "hostname": "g.example.com",
			"group_id": f.globexAdmin.GroupID}, servertest.Master()...), 201)
		if d["group_id"] != float64(f.globexAdmin.GroupID) {
			t.Fatalf("master's gateway: %v", d)
		}
		// Naming no group, it places it in the default group.
		d = want(t, e.Do(t, "POST", "/api/v1/admin/gateways", map[string]any{"name": "g2", "hostname": "g.example.com"},
			servertest.Master()...), 201)
		if d["group_id"] != float64(e.DefaultGroupID(t)) {
			t.Fatalf("master's gateway without a group: %v", d)
		}
	})
}

func TestAdminGatewayManage(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		id, token := f.gateway(t, map[string]any{"name": "one"})
		f.gateway(t, map[string]any{"name": "two"})
		path := "/api/v1/admin/gateways/" + id

		d := want(t, f.do(t, f.admin, "GET", path, nil), 200)
		wantKeys(t, "gateway", d, adminGatewayFields...)
		for _, tc := range []struct {
			name, token, method, path string
			body                      any
			status                    int
			code                      string
		}{
			{"404/unknown", f.admin, "GET", "/api/v1/admin/gateways/gw-0000000000000000", nil, 404, "not_found"},
			{"404/other group get", f.foreign, "GET", path, nil, 404, "not_found"},
			{"404/other group put", f.foreign, "PUT", path, map[string]any{"port": 1}, 404, "not_found"},
			{"404/other group delete", f.foreign, "DELETE", path, nil, 404, "not_found"},
			{"404/other group token", f.foreign, "POST", path + "/regenerate-token", nil, 404, "not_found"},
			{"403/user get", f.user, "GET", path, nil, 403, "forbidden"},
			{"403/user put", f.user, "PUT", path, map[string]any{"port": 1}, 403, "forbidden"},
			{"403/user delete", f.user, "DELETE", path, nil, 403, "forbidden"},
			{"400/put bad port", f.admin, "PUT", path, map[string]any{"port": -1}, 400, "invalid"},
			{"400/put group", f.admin, "PUT", path, map[string]any{"group_id": f.globexAdmin.GroupID}, 400, "invalid"},
			{"409/put taken name", f.admin, "PUT", path, map[string]any{"name": "two"}, 409, "conflict"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, f.do(t, tc.token, tc.method, tc.path, tc.body), tc.status, tc.code)
			})
		}
		// Nothing above changed the gateway.
		if again := want(t, f.do(t, f.admin, "GET", path, nil), 200); again["updated_at"] != d["updated_at"] || again["port"] != d["port"] {
			t.Fatalf("a refused change changed the gateway: %v", again)
		}

		// PUT changes only the given fields and raises the config version.
		u := want(t, f.do(t, f.admin, "PUT", path, map[string]any{"port": 443, "description": "edge"}), 200)
		if u["port"] != float64(443) || u["description"] != "edge" || u["name"] != "one" || u["config_version"] != float64(2) {
			t.Fatalf("updated = %v", u)
		}
		f.audited(t, "gateway.update", "gateway:"+id)
		// An unchanged PUT is no change.
		if same := want(t, f.do(t, f.admin, "PUT", path, map[string]any{"port": 443}), 200); same["config_version"] != float64(2) {
			t.Fatalf("no-op update raised the version: %v", same)
		}

		// Regenerating the token retires the old one at once.
		if r := f.agent(t, token, "heartbeat", nil); r.Status != 200 {
			t.Fatalf("heartbeat with the first token: %d %s", r.Status, r.Raw)
		}
		nt := want(t, f.do(t, f.admin, "POST", path+"/regenerate-token", nil), 200)["token"].(string)
		wantError(t, f.agent(t, token, "heartbeat", nil), 401, "unauthorized")
		if r := f.agent(t, nt, "heartbeat", nil); r.Status != 200 {
			t.Fatalf("heartbeat with the new token: %d %s", r.Status, r.Raw)
		}
		f.audited(t, "gateway.token.regenerate", "gateway:"+id)

		// Deleting revokes its server certificate and its token.
		prov := f.agent(t, nt, "provision", nil)
		if prov.Status != 200 {
			t.Fatalf("provision: %d %s", prov.Status, prov.Raw)
		}
		if d := want(t, f.do(t, f.admin, "DELETE", path, nil), 200); d["deleted"] != true || d["id"] != id {
			t.Fatalf("delete = %v", d)
		}
		f.audited(t, "gateway.delete", "gateway:"+id)
		wantError(t, f.do(t, f.admin, "GET", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.admin, "DELETE", path, nil), 404, "not_found")
		wantError(t, f.agent(t, nt, "heartbeat", nil), 401, "unauthorized")
		chk := e.Do(t, "GET", "/api/v1/pki/check/"+prov.JSON["serial"].(string), nil)
		if chk.JSON["revoked"] != true || chk.JSON["reason"] != "cessationOfOperation" {
			t.Fatalf("the deleted gateway's certificate: %s", chk.Raw)
		}
	})
}

func TestAdminGatewayPaging(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		for range 5 {
			f.gateway(t, nil)
		}
		want(t, e.Do(t, "POST", "/api/v1/admin/gateways", map[string]any{"name": "theirs", "hostname": "t.example.com"},
			servertest.Bearer(f.foreign)...), 201)
		for _, tc := range []struct {
			token, query         string
			total, page, perPage int
			count                int
		}{
			{f.admin, "", 5, 1, 20, 5},
			{f.admin, "?page=2&per_page=2", 5, 2, 2, 2},
			{f.admin, "?page=3&per_page=2", 5, 3, 2, 1},
			{f.foreign, "", 1, 1, 20, 1},
		} {
			r := f.do(t, tc.token, "GET", "/api/v1/admin/gateways"+tc.query, nil)
			want(t, r, 200)
			wantKeys(t, "body", r.JSON, "data", "meta")
			meta := r.JSON["meta"].(map[string]any)
			if meta["total"] != float64(tc.total) || meta["page"] != float64(tc.page) || meta["per_page"] != float64(tc.perPage) ||
				len(r.JSON["data"].([]any)) != tc.count {
				t.Fatalf("%s: %s", tc.query, r.Raw)
			}
		}
		wantError(t, f.do(t, f.admin, "GET", "/api/v1/admin/gateways?page=0", nil), 400, "invalid")
	})
}

// TestGatewayEvents: committed changes are published on the "gateway"
// topic (so other replicas and streams can follow); a no-op update is no
// change and publishes nothing.
func TestGatewayEvents(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		sub := e.Bus.Subscribe("gateway")
		defer sub.Close()
		next := func() string {
			t.Helper()
			select {
			case ev := <-sub.C():
				return ev.Action + " " + ev.ID
			case <-time.After(10 * time.Second):
				t.Fatal("no gateway event")
			}
			return ""
		}
		id, _ := f.gateway(t, map[string]any{"port": 1194})
		if got := next(); got != "gateway.created "+id {
			t.Fatalf("event = %q", got)
		}
		want(t, f.do(t, f.admin, "PUT", "/api/v1/admin/gateways/"+id, map[string]any{"port": 1194}), 200)
		want(t, f.do(t, f.admin, "PUT", "/api/v1/admin/gateways/"+id, map[string]any{"port": 443}), 200)
		if got := next(); got != "gateway.updated "+id {
			t.Fatalf("event after a no-op and a change = %q", got)
		}
		want(t, f.do(t, f.admin, "DELETE", "/api/v1/admin/gateways/"+id, nil), 200)
		if got := next(); got != "gateway.deleted "+id {
			t.Fatalf("event = %q", got)
		}
	})
}
