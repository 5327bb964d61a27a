package nekzus_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// TestLocalTrust: IP-based trust is off by default; when loopback is
// listed, a request without credentials from it acts as the default
// group's administrator on "IP-based (local)" endpoints only, and never
// when it was forwarded from somewhere else.
func TestLocalTrust(t *testing.T) {
	t.Parallel()
	kind := storetest.Kinds()[len(storetest.Kinds())-1]
	off := servertest.Start(t, kind)
	loopback := servertest.StartWith(t, kind, func(c *config.Config) { c.LocalTrust = "loopback" })
	elsewhere := servertest.StartWith(t, kind, func(c *config.Config) { c.LocalTrust = "10.0.0.0/8, 192.0.2.7" })
	behindProxy := servertest.StartWith(t, kind, func(c *config.Config) { c.LocalTrust = "loopback"; c.TrustProxyHeaders = true })
	tests := []struct {
		name   string
		e      *servertest.Env
		method string
		path   string
		header []string
		status int
	}{
		{"401/off by default", off, "GET", "/api/v1/devices", nil, 401},
		{"401/off by default: qr", off, "GET", "/api/v1/auth/qr", nil, 401},
		{"200/loopback listed", loopback, "GET", "/api/v1/devices", nil, 200},
		{"200/loopback listed: qr", loopback, "GET", "/api/v1/auth/qr", nil, 200},
		{"401/forwarded from elsewhere", loopback, "GET", "/api/v1/devices", []string{"X-Forwarded-For", "203.0.113.9"}, 401},
		{"401/forwarded, claiming loopback", loopback, "GET", "/api/v1/devices", []string{"X-Forwarded-For", "127.0.0.1"}, 401},
		{"401/Forwarded header", loopback, "GET", "/api/v1/devices", []string{"Forwarded", "for=127.0.0.1"}, 401},
		{"401/X-Real-IP header", loopback, "GET", "/api/v1/devices", []string{"X-Real-Ip", "127.0.0.1"}, 401},
		{"401/a bad token is refused even locally", loopback, "GET", "/api/v1/devices", servertest.Bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"), 401},
		{"401/JWT (strict) never trusts the address", loopback, "GET", "/api/v1/session-cookies", nil, 401},
		{"200/API keys are IP-based (local) too", loopback, "GET", "/api/v1/apikeys", nil, 200},
		{"401/audit logs are JWT (strict)", loopback, "GET", "/api/v1/audit-logs", nil, 401},
		{"401/me needs a token", loopback, "GET", "/api/v1/auth/me", nil, 401},
		{"200/admin info is IP-based (local)", loopback, "GET", "/api/v1/admin/info", nil, 200},
		{"200/stats are IP-based (local)", loopback, "GET", "/api/v1/stats", nil, 200},
		{"200/recent activity is IP-based (local)", loopback, "GET", "/api/v1/activity/recent", nil, 200},
		{"200/apps are IP-based (local)", loopback, "GET", "/api/v1/apps", nil, 200},
		{"200/routes are IP-based (local)", loopback, "GET", "/api/v1/routes", nil, 200},
		{"401/quick stats are JWT (strict)", loopback, "GET", "/api/v1/stats/quick", nil, 401},
		{"401/loopback not listed", elsewhere, "GET", "/api/v1/devices", nil, 401},
		{"401/behind a trusted proxy: the client is remote", behindProxy, "GET", "/api/v1/devices", []string{"X-Forwarded-For", "203.0.113.9"}, 401},
		{"200/behind a trusted proxy: the client is local", behindProxy, "GET", "/api/v1/devices", []string{"X-Forwarded-For", "127.0.0.1"}, 200},
		{"401/behind a trusted proxy: a remote client claiming loopback before the proxy's entry", behindProxy, "GET", "/api/v1/devices",
			[]string{"X-Forwarded-For", "127.0.0.1, 203.0.113.9"}, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.e.Do(t, tc.method, tc.path, nil, tc.header...); r.Status != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Raw, tc.status)
			}
		})
	}
	// The local administrator is the default group's: a device paired
	// with its code lands there, and another group's devices stay unseen.
	loopback.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
	bob, _ := loopback.Login(t, "bob", "password1")
	pairDevice(t, loopback, bob, "bobs-phone")
	r := loopback.Do(t, "GET", "/api/v1/devices", nil)
	if r.Status != 200 || len(r.Array) != 0 {
		t.Fatalf("local admin sees another group's devices: %s", r.Raw)
	}
	if r := loopback.Do(t, "DELETE", "/api/v1/devices/bobs-phone", nil); r.Status != 404 {
		t.Fatalf("local admin revokes another group's device: %d", r.Status)
	}
	code := loopback.Do(t, "GET", "/api/v1/auth/qr", nil).JSON["code"].(string)
	red := loopback.Do(t, "POST", "/api/v1/pair", map[string]string{"code": code}, pairingHeader...)
	loopback.Do(t, "POST", "/api/v1/auth/pair", map[string]any{"device": map[string]string{"id": "local-phone", "platform": "ios"}},
		servertest.Bearer(red.JSON["bootstrapToken"].(string))...)
	if r := loopback.Do(t, "GET", "/api/v1/devices/local-phone", nil); r.Status != 200 {
		t.Fatalf("device paired through local trust: %d %s", r.Status, r.Raw)
	}
}

// TestSPKIPins: over HTTPS the pairing configuration pins the key of the
// certificate the phone is actually served.
func TestSPKIPins(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := servertest.SelfSignedCert(t, t.TempDir())
	e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	admin, _ := e.Login(t, "alice", "password1")
	code := newCode(t, e, admin)

	req, _ := http.NewRequest("GET", e.URL+"/api/v1/pair/"+code, nil)
	req.Header.Set("X-Pairing-Request", "true")
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("redeem over TLS: %d", res.StatusCode)
	}
	sum := sha256.Sum256(res.TLS.PeerCertificates[0].RawSubjectPublicKeyInfo)
	served := "sha256/" + base64.StdEncoding.EncodeToString(sum[:])

	// The code was spent above; the pins come with every redemption.
	r := e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": newCode(t, e, admin)}, pairingHeader...)
	pins := servertest.Strings(r.JSON["spkiPins"])
	if r.Status != 200 || len(pins) != 1 || pins[0] != served || r.JSON["baseUrl"] != e.URL {
		t.Fatalf("pins %v, want [%s]: %s", pins, served, r.Raw)
	}
}
