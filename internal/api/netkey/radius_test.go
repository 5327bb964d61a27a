package netkey_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"netkeep/internal/testpeer"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

var radiusClientFields = []string{"id", "name", "address", "vendor", "require_message_authenticator", "mac_auth_password", "group_id", "ssids", "dae_mode", "dae_port", "dae_address", "created_at", "updated_at"}

func TestRadiusClients(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		r := e.Do(t, "POST", "/api/v1/radius/clients", map[string]any{
			"name": "lobby AP", "address": "10.1.2.3", "secret": "shared-secret-1"}, f.admin...)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "client", r.JSON, radiusClientFields...)
		if r.JSON["vendor"] != "generic" || r.JSON["require_message_authenticator"] != true || r.JSON["mac_auth_password"] != "mac" ||
			r.JSON["group_id"] != float64(f.acmeGroup) || bytes.Contains(r.Raw, []byte("shared-secret-1")) {
			t.Fatalf("created %s", r.Raw)
		}
		path := idPath("/api/v1/radius/clients", r.JSON)

		// The secret is sealed at rest.
		var stored []byte
		if err := e.DB.SQL().QueryRow(`SELECT secret FROM radius_clients`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if len(stored) == 0 || bytes.Contains(stored, []byte("shared-secret-1")) {
			t.Fatalf("secret stored as %q", stored)
		}
		var audits int
		if err := e.DB.SQL().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'radius_client.create'`).Scan(&audits); err != nil || audits != 1 {
			t.Fatalf("audit entries %d, %v", audits, err)
		}

		tests := []struct {
			name, method, path string
			as                 []string
			body               any
			status             int
			code               string
		}{
			{"200/get", "GET", path, f.admin, nil, 200, ""},
			{"403/USER may not read", "GET", path, f.user, nil, 403, ""},
			{"404/other group", "GET", path, f.other, nil, 404, "RADIUS_CLIENT_NOT_FOUND"},
			{"404/other group update", "PUT", path, f.other, map[string]any{"name": "x"}, 404, "RADIUS_CLIENT_NOT_FOUND"},
			{"404/other group delete", "DELETE", path, f.other, nil, 404, "RADIUS_CLIENT_NOT_FOUND"},
			{"403/USER may not write", "PUT", path, f.user, map[string]any{"name": "x"}, 403, ""},
			{"404/malformed id", "GET", "/api/v1/radius/clients/abc", f.admin, nil, 404, "RADIUS_CLIENT_NOT_FOUND"},
			{"400/bad address", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0", "secret": "longenough"}, 400, "VALIDATION_ERROR"},
			{"400/short secret", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0.9", "secret": "short"}, 400, "VALIDATION_ERROR"},
			{"400/unknown vendor", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0.9", "secret": "longenough", "vendor": "netgear"}, 400, "VALIDATION_ERROR"},
			{"400/long SSID", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0.9", "secret": "longenough", "ssids": []string{strings.Repeat("s", 33)}}, 400, "VALIDATION_ERROR"},
			{"409/address taken", "POST", "/api/v1/radius/clients", f.other, map[string]any{"name": "a", "address": "10.1.2.3", "secret": "longenough"}, 409, ""},
			{"200/update", "PUT", path, f.admin, map[string]any{"vendor": "cisco", "secret": "another-secret", "ssids": []string{"Guest"}, "require_message_authenticator": false}, 200, ""},
			{"201/CIDR canonical", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "site", "address": "10.9.0.7/16", "secret": "longenough", "vendor": "ARUBA"}, 201, ""},
			{"400/control character in name", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "lobby\x1b[31mAP", "address": "10.0.0.9", "secret": "longenough"}, 400, "VALIDATION_ERROR"},
			{"400/bidi override in name", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "ap\u202egnp.exe", "address": "10.0.0.9", "secret": "longenough"}, 400, "VALIDATION_ERROR"},
			{"400/NUL in name on update", "PUT", path, f.admin, map[string]any{"name": "a\x00b"}, 400, "VALIDATION_ERROR"},
			{"400/empty MAC password", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0.9", "secret": "longenough", "mac_auth_password": ""}, 400, "VALIDATION_ERROR"},
			{"400/long MAC password", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0.9", "secret": "longenough", "mac_auth_password": strings.Repeat("p", 129)}, 400, "VALIDATION_ERROR"},
			{"400/fixed without a password set", "PUT", path, f.admin, map[string]any{"mac_auth_password": "fixed"}, 400, "VALIDATION_ERROR"},
			{"400/unknown dae_mode", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "a", "address": "10.0.0.9", "secret": "longenough", "dae_mode": "reboot"}, 400, "VALIDATION_ERROR"},
			{"400/dae_port out of range", "PUT", path, f.admin, map[string]any{"dae_port": 70000}, 400, "VALIDATION_ERROR"},
			{"400/dae_address not an IP", "PUT", path, f.admin, map[string]any{"dae_address": "nas.example"}, 400, "VALIDATION_ERROR"},
			{"201/any", "POST", "/api/v1/radius/clients", f.admin, map[string]any{"name": "any", "address": "10.0.0.10", "secret": "longenough", "mac_auth_password": "any"}, 201, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.Do(t, tt.method, tt.path, tt.body, tt.as...)
				if tt.status >= 400 {
					wantNetKeyError(t, r, tt.status, tt.code)
					return
				}
				if r.Status != tt.status {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				wantKeys(t, "client", r.JSON, radiusClientFields...)
			})
		}
		r = e.Do(t, "GET", path, nil, f.admin...)
		if r.JSON["vendor"] != "cisco" || r.JSON["require_message_authenticator"] != false || fmt.Sprint(r.JSON["ssids"]) != "[Guest]" ||
			r.JSON["name"] != "lobby AP" || r.JSON["mac_auth_password"] != "mac" {
			t.Fatalf("after update: %s", r.Raw)
		}

		// A fixed MAC-authentication password is sealed and never shown;
		// "fixed" then keeps it.
		const fixedPW = "ap-mac-password-7"
		for _, body := range []map[string]any{{"mac_auth_password": fixedPW}, {"mac_auth_password": "fixed", "name": "lobby AP 2"}} {
			r = e.Do(t, "PUT", path, body, f.admin...)
			if r.Status != 200 || r.JSON["mac_auth_password"] != "fixed" || bytes.Contains(r.Raw, []byte(fixedPW)) {
				t.Fatalf("PUT %v: %d %s", body, r.Status, r.Raw)
			}
		}
		var sealedPW []byte
		if err := e.DB.SQL().QueryRow(`SELECT mac_password_sealed FROM radius_clients WHERE name = 'lobby AP 2'`).Scan(&sealedPW); err != nil {
			t.Fatal(err)
		}
		if len(sealedPW) == 0 || bytes.Contains(sealedPW, []byte(fixedPW)) {
			t.Fatalf("fixed MAC password stored as %q", sealedPW)
		}
		var auditPW int
		if err := e.DB.SQL().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'radius_client.update' AND details LIKE '%` + fixedPW + `%'`).Scan(&auditPW); err != nil || auditPW != 0 {
			t.Fatalf("audit entries naming the fixed password: %d, %v", auditPW, err)
		}
		if r := e.Do(t, "GET", "/api/v1/radius/clients", nil, f.admin...); bytes.Contains(r.Raw, []byte(fixedPW)) {
			t.Fatalf("list shows the fixed password: %s", r.Raw)
		}
		r = e.Do(t, "GET", "/api/v1/radius/clients", nil, f.admin...)
		if r.JSON["total"] != float64(3) || !strings.Contains(string(r.Raw), `"10.9.0.0/16"`) || !strings.Contains(string(r.Raw), `"aruba"`) {
			t.Fatalf("list: %s", r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/radius/clients", nil, f.other...); r.JSON["total"] != float64(0) {
			t.Fatalf("other group sees %s", r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/radius/clients", nil, f.root...); r.JSON["total"] != float64(3) {
			t.Fatalf("super admin sees %s", r.Raw)
		}

		// API key scopes.
		reader := f.apiKey(t, f.admin, "radius:read")
		if r := e.Do(t, "GET", "/api/v1/radius/clients", nil, reader...); r.Status != 200 {
			t.Fatalf("radius:read list: %d %s", r.Status, r.Raw)
		}
		wantNetKeyError(t, e.Do(t, "DELETE", path, nil, reader...), 403, "")
		writer := f.apiKey(t, f.admin, "radius:write")
		wantNetKeyError(t, e.Do(t, "GET", "/api/v1/radius/clients", nil, writer...), 403, "")

		r = e.Do(t, "DELETE", path, nil, f.admin...)
		if r.Status != 200 || r.JSON["success"] != true || r.JSON["deleted_id"] == nil {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		wantNetKeyError(t, e.Do(t, "GET", path, nil, f.admin...), 404, "RADIUS_CLIENT_NOT_FOUND")
	})
}

var tunnelPasswordRE = regexp.MustCompile(`Tunnel-Password:0 = "([^"]*)"`)

// askRadius sends a MAC-auth request for mac and returns the answer's code
// and decrypted Tunnel-Password.
func askRadius(tb testing.TB, addr, secret, mac string) (code, tunnelPassword string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testpeer.Command(tb, "radclient", "freeradius-utils"), "-x", "-t", "1", "-r", "1", addr, "auth", secret)
	plain := strings.ReplaceAll(mac, "-", "")
	cmd.Stdin = strings.NewReader(fmt.Sprintf(`User-Name = "%s", User-Password = "%s", Calling-Station-Id = "%s", Message-Authenticator = 0x00`+"\n", plain, plain, mac))
	out, _ := cmd.CombinedOutput()
	switch {
	case bytes.Contains(out, []byte("Received Access-Accept")):
		code = "Access-Accept"
	case bytes.Contains(out, []byte("Received Access-Reject")):
		code = "Access-Reject"
	}
	if m := tunnelPasswordRE.FindSubmatch(out); m != nil {
		tunnelPassword = string(m[1])
	}
	return code, tunnelPassword
}

// serveRadius serves e's RADIUS server on loopback until the test ends.
func serveRadius(tb testing.TB, e *servertest.Env) (auth, acct string) {
	tb.Helper()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	a, c := listen(), listen()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Server.Radius.Serve(ctx, []*net.UDPConn{a}, []*net.UDPConn{c}) }()
	tb.Cleanup(func() { cancel(); <-done })
	return a.LocalAddr().String(), c.LocalAddr().String()
}

// A PSK made and changed through the API is what RADIUS answers, within a
// second of each change; on PostgreSQL the RADIUS server is another
// replica's.
func TestRadiusFollowsTheAPI(t *testing.T) {
	testpeer.Command(t, "radclient", "freeradius-utils")
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		radiusOf := e
		if e.Kind == "postgres" {
			radiusOf = servertest.Replica(t, e)
		}
		auth, acct := serveRadius(t, radiusOf)
		r := e.Do(t, "POST", "/api/v1/radius/clients", map[string]any{
			"name": "test", "address": "127.0.0.1", "secret": "radius-secret", "vendor": "meraki"}, f.admin...)
		if r.Status != http.StatusCreated {
			t.Fatalf("client: %d %s", r.Status, r.Raw)
		}
		clientPath := idPath("/api/v1/radius/clients", r.JSON)
		p := f.createPSK(t, f.admin, map[string]any{"psk_id": "room-101", "psk_value": "first passphrase", "vlan_id": 101})
		r = e.Do(t, "POST", "/api/v1/endpoints", map[string]any{"mac_address": "aa:bb:cc:dd:ee:01", "psk_id": p["id"]}, f.admin...)
		if r.Status != http.StatusCreated {
			t.Fatalf("endpoint: %d %s", r.Status, r.Raw)
		}
		// How fast RADIUS follows is measured by bench/radius; here it
		// must follow at all (a generous deadline for loaded machines).
		within := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for !cond() {
				if time.Now().After(deadline) {
					t.Fatalf("RADIUS did not follow the API: %s", what)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		within("new PSK", func() bool {
			code, pass := askRadius(t, auth, "radius-secret", "AA-BB-CC-DD-EE-01")
			return code == "Access-Accept" && pass == "first passphrase"
		})
		if r := e.Do(t, "PUT", idPath("/api/v1/psks", p), map[string]any{"psk_value": "second passphrase"}, f.admin...); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Raw)
		}
		within("passphrase change", func() bool {
			_, pass := askRadius(t, auth, "radius-secret", "AA-BB-CC-DD-EE-01")
			return pass == "second passphrase"
		})
		// The client's MAC-authentication password policy: a fixed password
		// refuses the MAC as password, "mac" accepts it again.
		for _, tt := range []struct{ policy, want string }{{"fixed-ap-password", "Access-Reject"}, {"mac", "Access-Accept"}} {
			if r := e.Do(t, "PUT", clientPath, map[string]any{"mac_auth_password": tt.policy}, f.admin...); r.Status != 200 {
				t.Fatalf("mac_auth_password %s: %d %s", tt.policy, r.Status, r.Raw)
			}
			within("mac_auth_password "+tt.policy, func() bool {
				code, _ := askRadius(t, auth, "radius-secret", "AA-BB-CC-DD-EE-01")
				return code == tt.want
			})
		}
		if r := e.Do(t, "PUT", idPath("/api/v1/psks", p), map[string]any{"enabled": false}, f.admin...); r.Status != 200 {
			t.Fatalf("disable: %d %s", r.Status, r.Raw)
		}
		within("disable", func() bool {
			code, _ := askRadius(t, auth, "radius-secret", "AA-BB-CC-DD-EE-01")
			return code == "Access-Reject"
		})

		// Accounting shows up in the sessions view.
		cmd := exec.Command(testpeer.Command(t, "radclient", "freeradius-utils"), "-t", "1", "-r", "1", acct, "acct", "radius-secret")
		cmd.Stdin = strings.NewReader(`Acct-Status-Type = Start, Acct-Session-Id = "sess-9", User-Name = "aabbccddee01", Calling-Station-Id = "AA-BB-CC-DD-EE-01", Framed-IP-Address = 10.0.0.9` + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("radclient acct: %v\n%s", err, out)
		}
		servertest.Eventually(t, 5*time.Second, func() bool {
			r := e.Do(t, "GET", "/api/v1/radius/sessions", nil, f.admin...)
			return r.Status == 200 && r.JSON["total"] == float64(1) && strings.Contains(string(r.Raw), `"aa:bb:cc:dd:ee:01"`) &&
				strings.Contains(string(r.Raw), `"10.0.0.9"`)
		}, "accounting session not listed")
		if r := e.Do(t, "GET", "/api/v1/radius/sessions", nil, f.other...); r.JSON["total"] != float64(0) {
			t.Fatalf("other group sees sessions: %s", r.Raw)
		}
	})
}
