package netkey_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// POST /api/v1/radius/sessions/disconnect asks the station's NAS, a real
// FreeRADIUS acting as its dynamic authorization server, to end each of
// its online sessions: the NAS receives the session's attributes with a
// valid Message-Authenticator, and its ACK, its NAK and its silence are
// each reported and audited. Another group's admin reaches nothing.
func TestRadiusDisconnect(t *testing.T) {
	radclient := testpeer.Command(t, "radclient", "freeradius-utils")
	const secret = "radius-secret"
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		peer := testpeer.FreeRADIUSDAE(t, secret)
		_, acct := serveRadius(t, e)
		r := e.Do(t, "POST", "/api/v1/radius/clients", map[string]any{
			"name": "lobby", "address": "127.0.0.1", "secret": secret, "dae_port": peer.Addr.Port()}, f.admin...)
		if r.Status != http.StatusCreated || r.JSON["dae_mode"] != "disconnect" || r.JSON["dae_port"] != float64(peer.Addr.Port()) {
			t.Fatalf("client: %d %s", r.Status, r.Raw)
		}
		clientPath := idPath("/api/v1/radius/clients", r.JSON)
		stations := []struct{ user, mac, outcome string }{
			{"alice", "aa:bb:cc:00:00:01", "ack"},
			{"nak-me", "aa:bb:cc:00:00:02", "nak"},
			{"drop-me", "aa:bb:cc:00:00:03", "timeout"},
		}
		// The RADIUS server learns of the new client through the event bus:
		// until it has, its accounting requests go unanswered, so each
		// Start is sent until answered (a Start is idempotent).
		for i, s := range stations {
			req := `Acct-Status-Type = Start, Acct-Session-Id = "sess-` + s.user + `", User-Name = "` + s.user +
				`", Calling-Station-Id = "` + strings.ToUpper(strings.ReplaceAll(s.mac, ":", "-")) +
				`", NAS-IP-Address = 127.0.0.1, Framed-IP-Address = 10.0.0.` + string(rune('1'+i)) + "\n"
			servertest.Eventually(t, 15*time.Second, func() bool {
				cmd := exec.Command(radclient, "-t", "1", "-r", "1", acct, "acct", secret)
				cmd.Stdin = strings.NewReader(req)
				return cmd.Run() == nil
			}, "accounting Start unanswered")
		}
		servertest.Eventually(t, 5*time.Second, func() bool {
			r := e.Do(t, "GET", "/api/v1/radius/sessions", nil, f.admin...)
			return r.JSON["total"] == float64(len(stations))
		}, "accounting sessions not listed")

		// Another group's admin and a USER reach nothing.
		if r := e.Do(t, "POST", "/api/v1/radius/sessions/disconnect", map[string]any{"mac": stations[0].mac}, f.other...); r.Status != 200 || r.JSON["total"] != float64(0) {
			t.Fatalf("other group: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/radius/sessions/disconnect", map[string]any{"mac": stations[0].mac}, f.user...); r.Status != http.StatusForbidden {
			t.Fatalf("USER: %d %s", r.Status, r.Raw)
		}
		if peer.Received("Disconnect-Request", stations[0].user) != "" {
			t.Fatal("a refused caller's request reached the NAS")
		}
		for _, bad := range []map[string]any{{"mac": "not-a-mac"}, {}, {"client_id": 1}} {
			if r := e.Do(t, "POST", "/api/v1/radius/sessions/disconnect", bad, f.admin...); r.Status != http.StatusBadRequest {
				t.Fatalf("%v: %d %s", bad, r.Status, r.Raw)
			}
		}

		for _, s := range stations {
			r := e.Do(t, "POST", "/api/v1/radius/sessions/disconnect", map[string]any{"mac": strings.ToUpper(s.mac)}, f.admin...)
			if r.Status != 200 || r.JSON["total"] != float64(1) {
				t.Fatalf("%s: %d %s", s.user, r.Status, r.Raw)
			}
			res := r.JSON["results"].([]any)[0].(map[string]any)
			if res["outcome"] != s.outcome || res["session_id"] != "sess-"+s.user || res["mac_address"] != s.mac {
				t.Fatalf("%s: %s, want outcome %s", s.user, r.Raw, s.outcome)
			}
			log := peer.Received("Disconnect-Request", s.user)
			for _, want := range []string{
				`Acct-Session-Id = "sess-` + s.user + `"`,
				`Calling-Station-Id = "` + strings.ToUpper(strings.ReplaceAll(s.mac, ":", "-")) + `"`,
				`NAS-IP-Address = 127.0.0.1`,
				`Message-Authenticator = 0x`,
			} {
				if !strings.Contains(log, want) {
					t.Fatalf("%s: the NAS received no %s:\n%s", s.user, want, log)
				}
			}
			var audited int
			if err := e.DB.SQL().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'radius_session.disconnect' AND details LIKE '%"outcome":"` + s.outcome + `"%'`).Scan(&audited); err != nil || audited != 1 {
				t.Fatalf("%s: %d audit entries, %v", s.user, audited, err)
			}
		}

		// A client that takes no dynamic authorization requests is not asked.
		if r := e.Do(t, "PUT", clientPath, map[string]any{"dae_mode": "off"}, f.admin...); r.Status != 200 {
			t.Fatalf("dae_mode off: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/v1/radius/sessions/disconnect", map[string]any{"mac": stations[0].mac}, f.admin...)
		if res := r.JSON["results"].([]any)[0].(map[string]any); res["outcome"] != "not_sent" {
			t.Fatalf("dae off: %s", r.Raw)
		}
	})
}
