package gatekey_test

import (
	"fmt"
	"testing"

	"netkeep/internal/server/servertest"
)

// TestGeoFence: the policies through the API, applied at login and at a
// gateway's verify and connect, refusals audited with the country. No
// country database is configured here, so every address is of unknown
// country and the unknown_country rule decides (the geo package's tests
// locate addresses in a real .mmdb).
func TestGeoFence(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, nil)
		net := f.network(t, "10.1.0.0/16", gw)
		f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
		serial := string(f.issue(t, f.alice).Certificate.Serial)
		acme, globex := f.alice.GroupID, f.globexAdmin.GroupID
		m := servertest.Master()

		// Who may read and change it.
		wantError(t, f.do(t, f.user, "GET", "/api/v1/admin/geo-fence", nil), 403, "forbidden")
		wantError(t, f.do(t, f.admin, "PUT", "/api/v1/admin/geo-fence", map[string]any{"enabled": true}), 403, "forbidden")
		wantError(t, f.do(t, f.admin, "PUT", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme), map[string]any{"enabled": false}), 403, "forbidden")
		wantError(t, f.do(t, f.foreign, "GET", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme), nil), 404, "not_found")
		wantError(t, e.Do(t, "PUT", "/api/v1/admin/geo-fence", map[string]any{"countries": []string{"DEU"}}, m...), 400, "invalid")
		wantError(t, e.Do(t, "PUT", "/api/v1/admin/geo-fence", map[string]any{"mode": "block"}, m...), 400, "invalid")
		wantError(t, e.Do(t, "PUT", "/api/v1/admin/geo-fence/groups/999999", map[string]any{}, m...), 404, "not_found")
		d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/geo-fence", nil), 200)
		if d["enabled"] != false || d["database"] != false {
			t.Fatalf("settings before any change (refused changes must not stick): %v", d)
		}

		// Server-wide: only DE, unknown refused. acme: deny-list, unknown allowed.
		want(t, e.Do(t, "PUT", "/api/v1/admin/geo-fence", map[string]any{"enabled": true, "mode": "allow",
			"countries": []string{"de"}, "unknown_country": "deny"}, m...), 200)
		g := want(t, e.Do(t, "PUT", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme),
			map[string]any{"mode": "deny", "countries": []string{"RU"}, "unknown_policy": "allow"}, m...), 200)
		if g["enabled"] != true || g["group_name"] != "acme" || servertest.Strings(g["countries"])[0] != "RU" {
			t.Fatalf("acme's policy (enabled inherited from the server-wide one) = %v", g)
		}
		// A group admin sees the server-wide policy and its own group's only.
		d = want(t, f.do(t, f.admin, "GET", "/api/v1/admin/geo-fence", nil), 200)
		if overrides, _ := d["group_overrides"].([]any); len(overrides) != 1 || servertest.Strings(d["countries"])[0] != "DE" {
			t.Fatalf("acme admin's view: %v", d)
		}
		c := want(t, f.do(t, f.foreign, "GET", "/api/v1/admin/geo-fence/check?ip=192.0.2.1", nil), 200)
		if c["allowed"] != false || c["policy"] != "global" || c["country"] != "" {
			t.Fatalf("check for globex: %v", c)
		}
		wantError(t, f.do(t, f.foreign, "GET", "/api/v1/admin/geo-fence/check?ip=nope", nil), 400, "invalid")

		// Logins: globex (server-wide policy) is refused from an unknown
		// country, acme (its own) is not.
		r := e.Do(t, "POST", "/api/v1/auth/local/login", map[string]any{"username": "gw-foreign", "password": password})
		wantError(t, r, 403, "geo_blocked")
		if r.JSON["error"].(map[string]any)["details"].(map[string]any)["country"] != "unknown" {
			t.Fatalf("refusal without the country: %s", r.Raw)
		}
		f.audited(t, "geo-fence.deny", fmt.Sprintf("user:%d", f.globexAdmin.ID))
		if r := e.Do(t, "POST", "/api/v1/auth/local/login", map[string]any{"username": "alice", "password": password}); r.Status != 200 {
			t.Fatalf("acme's login: %d %s", r.Status, r.Raw)
		}

		// The gateway's verify and connect, with the address it saw.
		want(t, e.Do(t, "PUT", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme), map[string]any{"unknown_country": "deny"}, m...), 200)
		body := map[string]any{"serial": serial, "client_ip": "198.51.100.7"}
		wantError(t, f.agent(t, token, "verify", body), 403, "geo_blocked")
		wantError(t, f.agent(t, token, "connect", body), 403, "geo_blocked")
		if r := f.agent(t, token, "verify", map[string]any{"serial": serial}); r.Status != 200 {
			t.Fatalf("verify without an address is not fenced: %d %s", r.Status, r.Raw)
		}
		var v gkVerify
		decodeAs(t, f.hook(t, "verify", map[string]any{"token": token, "common_name": "alice", "serial_number": serial,
			"client_ip": "198.51.100.7"}), 200, &v)
		if v.Allowed || v.Reason == "" {
			t.Fatalf("GateKey's hook: %+v", v)
		}
		f.audited(t, "geo-fence.deny", fmt.Sprintf("user:%d", f.alice.ID))
		r = f.do(t, f.admin, "GET", "/api/v1/admin/sessions?active=true", nil)
		if list, _ := r.JSON["data"].([]any); len(list) != 0 {
			t.Fatalf("a fenced connect opened a session: %s", r.Raw)
		}

		// Removing acme's policy brings the server-wide one back; another
		// group's admin cannot remove it.
		wantError(t, f.do(t, f.foreign, "DELETE", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme), nil), 404, "not_found")
		want(t, e.Do(t, "DELETE", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme), nil, m...), 200)
		wantError(t, e.Do(t, "DELETE", fmt.Sprintf("/api/v1/admin/geo-fence/groups/%d", acme), nil, m...), 404, "not_found")
		wantError(t, e.Do(t, "POST", "/api/v1/auth/local/login", map[string]any{"username": "alice", "password": password}), 403, "geo_blocked")
		_ = globex
	})
}
