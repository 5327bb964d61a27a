package nekzus_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/device"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// TestDevices: listing in both documented forms, renaming, and another
// group's devices staying invisible.
func TestDevices(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
		alice, _ := e.Login(t, "alice", "password1")
		bob, _ := e.Login(t, "bob", "password1")
		for _, id := range []string{"phone-1", "phone-2", "phone-3"} {
			pairDevice(t, e, alice, id)
		}
		pairDevice(t, e, bob, "bobs-phone")

		page := e.Do(t, "GET", "/api/v1/devices?limit=2&offset=1", nil, servertest.Bearer(alice)...)
		apitest.AssertShape(t, page.Raw, "testdata/seed/devices_page.json")
		ds, _ := page.JSON["devices"].([]any)
		if page.Status != 200 || page.JSON["total"] != float64(3) || page.JSON["limit"] != float64(2) || len(ds) != 2 ||
			ds[0].(map[string]any)["deviceId"] != "phone-2" {
			t.Fatalf("page: %d %s", page.Status, page.Raw)
		}
		for _, q := range []string{"limit=-2", "limit=x", "offset=-1"} {
			if r := e.Do(t, "GET", "/api/v1/devices?"+q, nil, servertest.Bearer(alice)...); r.Status != 400 {
				t.Errorf("%s: %d", q, r.Status)
			}
		}
		r := e.Do(t, "PATCH", "/api/v1/devices/phone-1", map[string]string{"deviceName": "John's New iPhone"}, servertest.Bearer(alice)...)
		if r.Status != 200 || r.JSON["deviceName"] != "John's New iPhone" {
			t.Fatalf("rename: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/device.json")
		for name, body := range map[string]any{"empty": map[string]string{"deviceName": " "}, "too long": map[string]string{"deviceName": strings.Repeat("x", 129)}} {
			if r := e.Do(t, "PATCH", "/api/v1/devices/phone-1", body, servertest.Bearer(alice)...); r.Status != 400 {
				t.Errorf("rename %s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/devices/phone-1", nil, servertest.Bearer(alice)...); r.JSON["deviceName"] != "John's New iPhone" {
			t.Fatalf("rename not stored: %s", r.Raw)
		}
		// Bob's group sees none of acme's devices, and acme none of his.
		if r := e.Do(t, "GET", "/api/v1/devices", nil, servertest.Bearer(bob)...); len(r.Array) != 1 || r.Array[0].(map[string]any)["deviceId"] != "bobs-phone" {
			t.Fatalf("bob's list: %s", r.Raw)
		}
		for _, m := range []string{"GET", "PATCH", "DELETE"} {
			if r := e.Do(t, m, "/api/v1/devices/phone-2", map[string]string{"deviceName": "mine"}, servertest.Bearer(bob)...); r.Status != 404 {
				t.Errorf("%s another group's device: %d", m, r.Status)
			}
		}
		// Pairing an id another group uses is refused; re-pairing one's own
		// replaces the pairing, so the older token dies.
		old := pairDevice(t, e, alice, "phone-3")
		pairDevice(t, e, alice, "phone-3")
		if r := e.Do(t, "GET", "/api/v1/devices", nil, servertest.Bearer(old)...); r.Status != 401 {
			t.Fatalf("token of a replaced pairing: %d", r.Status)
		}
		boot := bootstrap(t, e, bob, "")
		if r := e.Do(t, "POST", "/api/v1/auth/pair", map[string]any{"device": map[string]string{"id": "phone-1", "platform": "ios"}}, servertest.Bearer(boot)...); r.Status != 409 {
			t.Fatalf("pairing another group's device id: %d %s", r.Status, r.Raw)
		}
	})
}

// TestDeviceRevokedOnEveryReplica: two replicas share PostgreSQL; a device
// revoked on one stops authenticating on the other within a second.
func TestDeviceRevokedOnEveryReplica(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t, config.Postgres)
	b := servertest.Replica(t, a)
	a.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	admin, _ := a.Login(t, "alice", "password1")
	token := pairDevice(t, a, admin, "phone")
	if r := b.Do(t, "GET", "/api/v1/devices/phone", nil, servertest.Bearer(token)...); r.Status != 200 {
		t.Fatalf("device token of A on B: %d %s", r.Status, r.Raw)
	}
	renewed := b.Do(t, "POST", "/api/v1/auth/refresh", nil, servertest.Bearer(token)...).JSON["accessToken"].(string)
	if r := a.Do(t, "DELETE", "/api/v1/devices/phone", nil, servertest.Bearer(admin)...); r.Status != 200 {
		t.Fatalf("revoke on A: %d %s", r.Status, r.Raw)
	}
	servertest.Eventually(t, time.Second, func() bool {
		return b.Do(t, "GET", "/api/v1/devices/phone", nil, servertest.Bearer(token)...).Status == http.StatusUnauthorized &&
			b.Do(t, "GET", "/api/v1/devices/phone", nil, servertest.Bearer(renewed)...).Status == http.StatusUnauthorized
	}, "replica B still accepts the revoked device's tokens")
}

// TestSessionCookies: cookies the proxy stores for a device are sealed at
// rest, summarised without values, and cleared by the device alone.
func TestSessionCookies(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		admin, _ := e.Login(t, "alice", "password1")
		phone, tablet := pairDevice(t, e, admin, "phone"), pairDevice(t, e, admin, "tablet")
		ctx := context.Background()
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		save := func(app string, cs ...device.Cookie) {
			if err := e.Server.Devices.SaveCookies(ctx, servertest.Src, "phone", app, cs); err != nil {
				t.Fatal(err)
			}
		}
		save("grafana", device.Cookie{Name: "grafana_session", Value: "s3cr3t-grafana", HTTPOnly: true, ExpiresAt: &exp},
			device.Cookie{Name: "theme", Value: "dark"})
		save("wiki", device.Cookie{Name: "sid", Value: "s3cr3t-wiki", Path: "/apps/wiki/"})

		var raw []byte
		if err := e.DB.SQL().QueryRowContext(ctx, `SELECT value FROM device_cookies WHERE name = 'grafana_session'`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "s3cr3t") {
			t.Fatal("cookie value stored in the clear")
		}
		got, err := e.Server.Devices.Cookies(ctx, "phone", "grafana")
		if err != nil || len(got) != 2 || got[0].Value != "s3cr3t-grafana" || !got[0].HTTPOnly {
			t.Fatalf("cookies for the proxy: %+v %v", got, err)
		}

		r := e.Do(t, "GET", "/api/v1/session-cookies", nil, servertest.Bearer(phone)...)
		ss, _ := r.JSON["sessions"].([]any)
		if r.Status != 200 || len(ss) != 2 || strings.Contains(string(r.Raw), "s3cr3t") || strings.Contains(string(r.Raw), "dark") {
			t.Fatalf("sessions: %d %s", r.Status, r.Raw)
		}
		g := ss[0].(map[string]any)
		if g["appId"] != "grafana" || g["cookieCount"] != float64(2) || g["expiresAt"] != exp.Format(time.RFC3339) {
			t.Fatalf("grafana summary: %v", g)
		}
		if r := e.Do(t, "GET", "/api/v1/session-cookies", nil, servertest.Bearer(tablet)...); len(r.JSON["sessions"].([]any)) != 0 {
			t.Fatalf("another device sees the phone's cookies: %s", r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/session-cookies", nil, servertest.Bearer(admin)...); r.Status != 403 {
			t.Fatalf("a user's token: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/v1/session-cookies/grafana", nil, servertest.Bearer(phone)...); r.Status != 204 {
			t.Fatalf("clear grafana: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "GET", "/api/v1/session-cookies", nil, servertest.Bearer(phone)...)
		if ss := r.JSON["sessions"].([]any); len(ss) != 1 || ss[0].(map[string]any)["appId"] != "wiki" {
			t.Fatalf("after clearing grafana: %s", r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/v1/session-cookies", nil, servertest.Bearer(phone)...); r.Status != 204 {
			t.Fatalf("clear all: %d", r.Status)
		}
		if r := e.Do(t, "GET", "/api/v1/session-cookies", nil, servertest.Bearer(phone)...); len(r.JSON["sessions"].([]any)) != 0 {
			t.Fatalf("after clearing all: %s", r.Raw)
		}
		if err := e.Server.Devices.SaveCookies(ctx, servertest.Src, "no-such-device", "grafana", nil); err == nil {
			t.Fatal("cookies saved for a device that does not exist")
		}
	})
}

// TestDeviceRoutesByKeyScope: Nekzus API keys reach the device routes by
// their documented scopes.
func TestDeviceRoutesByKeyScope(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, config.SQLite)
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	admin, _ := e.Login(t, "alice", "password1")
	key := func(scope string) string {
		r := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": scope, "scopes": []string{scope}}, servertest.Bearer(admin)...)
		if r.Status != 201 {
			t.Fatalf("key %s: %d %s", scope, r.Status, r.Raw)
		}
		return r.JSON["key"].(string)
	}
	tests := []struct {
		scope  string
		method string
		status int
	}{
		{"read:catalog", "GET", 403},
		{"read:events", "GET", 200},
		{"read:events", "PATCH", 403},
		{"read:*", "GET", 200},
		{"read:*", "DELETE", 403},
		{"write:*", "PATCH", 200},
		{"write:*", "GET", 403},
		{"access:admin", "GET", 200},
		{"access:admin", "DELETE", 200},
	}
	for i, tc := range tests {
		t.Run(tc.scope+"/"+tc.method, func(t *testing.T) {
			id := "k-" + strings.Repeat("x", i+1)
			pairDevice(t, e, admin, id)
			if r := e.Do(t, tc.method, "/api/v1/devices/"+id, map[string]string{"deviceName": "n"}, "X-API-Key", key(tc.scope)); r.Status != tc.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Raw, tc.status)
			}
		})
	}
}
