package nekzus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"netkeep/internal/api/apitest"
	"netkeep/internal/api/nekzus"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// pairingHeader is the CSRF header every redemption needs.
var pairingHeader = []string{"X-Pairing-Request", "true"}

// scanQR fetches the pairing QR code as a PNG and reads it as a phone's
// camera app would: with a real decoder, from the pixels.
func scanQR(tb testing.TB, e *servertest.Env, header ...string) (u, c string) {
	tb.Helper()
	req, err := http.NewRequest("GET", e.URL+"/api/v1/auth/qr?format=png", nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.Client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		tb.Fatalf("qr png: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	img, format, err := image.Decode(bytes.NewReader(body))
	if err != nil || format != "png" {
		tb.Fatalf("not a PNG (%s): %v", format, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	result, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		tb.Fatalf("decoding the QR code: %v", err)
	}
	var payload struct{ U, C string }
	if err := json.Unmarshal([]byte(result.GetText()), &payload); err != nil {
		tb.Fatalf("QR payload %q: %v", result.GetText(), err)
	}
	return payload.U, payload.C
}

// pairDevice pairs a device for the admin (a user's access token) and
// returns its token: the code is made through the domain, so that fixtures
// do not spend the QR code's rate limit, the rest through the API.
func pairDevice(tb testing.TB, e *servertest.Env, admin, id string, extra ...string) string {
	tb.Helper()
	ctx := context.Background()
	p, err := e.Server.Identity.AuthenticateAccess(ctx, admin)
	if err != nil {
		tb.Fatal(err)
	}
	code, _, err := e.Server.Devices.NewCode(ctx, p, servertest.Src)
	if err != nil {
		tb.Fatal(err)
	}
	red := e.Do(tb, "POST", "/api/v1/pair", map[string]string{"code": code}, append(pairingHeader, extra...)...)
	if red.Status != 200 {
		tb.Fatalf("redeem: %d %s", red.Status, red.Raw)
	}
	pr := e.Do(tb, "POST", "/api/v1/auth/pair", map[string]any{"device": map[string]string{"id": id, "model": "Pixel 9", "platform": "android"}},
		append(servertest.Bearer(red.JSON["bootstrapToken"].(string)), extra...)...)
	if pr.Status != 200 {
		tb.Fatalf("pair: %d %s", pr.Status, pr.Raw)
	}
	return pr.JSON["accessToken"].(string)
}

// TestPairingPlaysThePhone walks Nekzus's QR flow as a phone does: scan,
// redeem, pair, use the token, renew it, and lose access when an
// administrator revokes the device.
func TestPairingPlaysThePhone(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		admin, _ := e.Login(t, "alice", "password1")

		u, code := scanQR(t, e, servertest.Bearer(admin)...)
		if u != e.URL || len(code) != 8 {
			t.Fatalf("QR payload u=%q c=%q, want u=%q and an 8-character code", u, code, e.URL)
		}
		qrJSON := e.Do(t, "GET", "/api/v1/auth/qr?format=json", nil, servertest.Bearer(admin)...)
		apitest.AssertShape(t, qrJSON.Raw, "testdata/seed/auth_qr.json")
		if qrJSON.Header.Get("X-Api-Version") == "" || qrJSON.Header.Get("X-Ratelimit-Limit") != "5" {
			t.Fatalf("qr headers: %v", qrJSON.Header)
		}

		before := time.Now()
		red := e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": strings.ToLower(code)}, pairingHeader...)
		if red.Status != 200 {
			t.Fatalf("redeem: %d %s", red.Status, red.Raw)
		}
		apitest.AssertShape(t, red.Raw, "testdata/seed/pair.json")
		exp := time.Unix(int64(red.JSON["expiresAt"].(float64)), 0)
		if red.JSON["baseUrl"] != e.URL || len(servertest.Strings(red.JSON["spkiPins"])) != 0 ||
			exp.Before(before.Add(4*time.Minute)) || exp.After(time.Now().Add(5*time.Minute+time.Second)) ||
			!strings.HasPrefix(red.JSON["nexusId"].(string), "nexus_") {
			t.Fatalf("pairing configuration: %s", red.Raw)
		}
		boot := red.JSON["bootstrapToken"].(string)

		pr := e.Do(t, "POST", "/api/v1/auth/pair", map[string]any{"device": map[string]string{
			"id": "my-iphone-123", "model": "iPhone 15 Pro", "platform": "ios", "pushToken": "apns_token_xyz"}}, servertest.Bearer(boot)...)
		if pr.Status != 200 || pr.JSON["expiresIn"] != float64(43200) || pr.JSON["deviceId"] != "my-iphone-123" {
			t.Fatalf("pair: %d %s", pr.Status, pr.Raw)
		}
		apitest.AssertShape(t, pr.Raw, "testdata/seed/auth_pair.json")
		token := pr.JSON["accessToken"].(string)

		// The device reads what its scopes grant (devices:read through
		// read:events), and may not change devices.
		list := e.Do(t, "GET", "/api/v1/devices", nil, servertest.Bearer(token)...)
		if list.Status != 200 || len(list.Array) != 1 {
			t.Fatalf("devices as the device: %d %s", list.Status, list.Raw)
		}
		apitest.AssertShape(t, list.Raw, "testdata/seed/devices_list.json")
		one := list.Array[0].(map[string]any)
		if one["deviceId"] != "my-iphone-123" || one["deviceName"] != "iPhone 15 Pro" || one["platform"] != "ios" || one["online"] != false {
			t.Fatalf("device: %v", one)
		}
		if strings.Contains(string(list.Raw), "apns_token_xyz") {
			t.Fatal("the push token is shown")
		}
		if r := e.Do(t, "PATCH", "/api/v1/devices/my-iphone-123", map[string]string{"deviceName": "x"}, servertest.Bearer(token)...); r.Status != 403 {
			t.Fatalf("device renames itself without write:*: %d %s", r.Status, r.Raw)
		}
		sock := listen(t, e, token) // the app's live stream
		servertest.Eventually(t, wsWait, func() bool {
			r := e.Do(t, "GET", "/api/v1/devices/my-iphone-123", nil, servertest.Bearer(admin)...)
			return r.JSON["online"] == true
		}, "the device with an open stream is not shown online")

		ref := e.Do(t, "POST", "/api/v1/auth/refresh", nil, servertest.Bearer(token)...)
		if ref.Status != 200 || ref.JSON["deviceId"] != "my-iphone-123" || ref.JSON["expiresIn"] != float64(43200) {
			t.Fatalf("refresh: %d %s", ref.Status, ref.Raw)
		}
		apitest.AssertShape(t, ref.Raw, "testdata/seed/auth_refresh.json")
		renewed := ref.JSON["accessToken"].(string)
		if r := e.Do(t, "GET", "/api/v1/devices/my-iphone-123", nil, servertest.Bearer(renewed)...); r.Status != 200 {
			t.Fatalf("renewed token: %d %s", r.Status, r.Raw)
		}

		rv := e.Do(t, "DELETE", "/api/v1/devices/my-iphone-123", nil, servertest.Bearer(admin)...)
		if rv.Status != 200 || rv.JSON["status"] != "revoked" {
			t.Fatalf("revoke: %d %s", rv.Status, rv.Raw)
		}
		apitest.AssertShape(t, rv.Raw, "testdata/seed/device_revoke.json")
		if code, told := sock.closedAfter(t, "device_revoked"); code != websocket.StatusPolicyViolation || !told {
			t.Fatalf("the revoked device's stream closed with %d, device_revoked first: %v", code, told)
		}
		for name, tok := range map[string]string{"first": token, "renewed": renewed} {
			if r := e.Do(t, "GET", "/api/v1/devices", nil, servertest.Bearer(tok)...); r.Status != 401 {
				t.Fatalf("%s token after revocation: %d %s", name, r.Status, r.Raw)
			}
			if r := e.Do(t, "POST", "/api/v1/auth/refresh", nil, servertest.Bearer(tok)...); r.Status != 401 {
				t.Fatalf("%s token refreshed after revocation: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "GET", "/api/v1/devices/my-iphone-123", nil, servertest.Bearer(admin)...); r.Status != 404 {
			t.Fatalf("revoked device still shown: %d", r.Status)
		}
		audit := e.Do(t, "GET", "/api/v1/audit-logs?action=device.paired", nil, servertest.Bearer(admin)...)
		if audit.JSON["count"] != float64(1) {
			t.Fatalf("audit of the pairing: %s", audit.Raw)
		}
	})
}

// TestPairingRefusals: every way a redemption or a pairing is refused, each
// case from its own client address (the server trusts X-Forwarded-For) so
// the per-address limit of one does not spill into the next. An expired
// code is refused in internal/device's tests, which set the clock.
func TestPairingRefusals(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := servertest.StartWith(t, kind, func(c *config.Config) { c.TrustProxyHeaders = true; c.NekzusAuthLimit = 10 })
			e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
			admin, _ := e.Login(t, "alice", "password1")
			redeem := func(ip, code string) *servertest.Response {
				return e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": code}, append(pairingHeader, from(ip)...)...)
			}
			device := func(id, platform string) map[string]any {
				return map[string]any{"device": map[string]string{"id": id, "model": "m", "platform": platform}}
			}
			tests := []struct {
				name   string
				run    func(t *testing.T) *servertest.Response
				status int
				code   string
				golden string
			}{
				{"400/missing header", func(t *testing.T) *servertest.Response {
					return e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": newCode(t, e, admin)}, from("10.0.0.1")...)
				}, 400, "MISSING_HEADER", "error.json"},
				{"400/header not true", func(t *testing.T) *servertest.Response {
					return e.Do(t, "GET", "/api/v1/pair/"+newCode(t, e, admin), nil, "X-Pairing-Request", "1", "X-Forwarded-For", "10.0.0.2")
				}, 400, "MISSING_HEADER", "error.json"},
				{"404/unknown code", func(t *testing.T) *servertest.Response { return redeem("10.0.0.3", "ZZZZZZZZ") }, 404, "INVALID_CODE", "pair_invalid_code.json"},
				{"404/reused code", func(t *testing.T) *servertest.Response {
					code := newCode(t, e, admin)
					if r := redeem("10.0.0.4", code); r.Status != 200 {
						t.Fatalf("first redemption: %d %s", r.Status, r.Raw)
					}
					return redeem("10.0.0.4", code)
				}, 404, "INVALID_CODE", "pair_invalid_code.json"},
				{"404/6th attempt after 5 wrong codes: locked", func(t *testing.T) *servertest.Response {
					code := newCode(t, e, admin)
					for i := range 5 {
						if r := redeem(fmt.Sprintf("10.0.1.%d", i), "WRONG"+fmt.Sprint(100+i)); r.Status != 404 {
							t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Raw)
						}
					}
					return redeem("10.0.1.9", code)
				}, 404, "INVALID_CODE", "pair_invalid_code.json"},
				{"200/GET with the header", func(t *testing.T) *servertest.Response {
					return e.Do(t, "GET", "/api/v1/pair/"+newCode(t, e, admin), nil, append(pairingHeader, from("10.0.0.5")...)...)
				}, 200, "", "pair.json"},
				{"429/11th redemption from one address", func(t *testing.T) *servertest.Response {
					for i := range 10 {
						if r := redeem("10.0.0.6", "NOPE"+fmt.Sprint(1000+i)); r.Status != 404 {
							t.Fatalf("attempt %d: %d %s", i, r.Status, r.Raw)
						}
					}
					r := redeem("10.0.0.6", newCode(t, e, admin))
					if r.Header.Get("Retry-After") == "" || r.Header.Get("X-Ratelimit-Limit") != "10" {
						t.Errorf("429 headers: %v", r.Header)
					}
					return r
				}, 429, "RATE_LIMITED", "pair_rate_limited.json"},
				{"401/bootstrap token reused", func(t *testing.T) *servertest.Response {
					boot := bootstrap(t, e, admin, "10.0.0.7")
					if r := e.Do(t, "POST", "/api/v1/auth/pair", device("reuse-1", "ios"), append(servertest.Bearer(boot), from("10.0.0.7")...)...); r.Status != 200 {
						t.Fatalf("first pairing: %d %s", r.Status, r.Raw)
					}
					return e.Do(t, "POST", "/api/v1/auth/pair", device("reuse-2", "ios"), append(servertest.Bearer(boot), from("10.0.0.7")...)...)
				}, 401, "INVALID_BOOTSTRAP_TOKEN", "error.json"},
				{"401/no bootstrap token", func(t *testing.T) *servertest.Response {
					return e.Do(t, "POST", "/api/v1/auth/pair", device("none", "ios"), from("10.0.0.8")...)
				}, 401, "INVALID_BOOTSTRAP_TOKEN", "error.json"},
				{"401/a user's token is no bootstrap token", func(t *testing.T) *servertest.Response {
					return e.Do(t, "POST", "/api/v1/auth/pair", device("user", "ios"), append(servertest.Bearer(admin), from("10.0.0.9")...)...)
				}, 401, "INVALID_BOOTSTRAP_TOKEN", "error.json"},
				{"400/undocumented platform, token kept", func(t *testing.T) *servertest.Response {
					boot := bootstrap(t, e, admin, "10.0.0.10")
					r := e.Do(t, "POST", "/api/v1/auth/pair", device("bb-1", "blackberry"), append(servertest.Bearer(boot), from("10.0.0.10")...)...)
					if ok := e.Do(t, "POST", "/api/v1/auth/pair", device("bb-1", "linux"), append(servertest.Bearer(boot), from("10.0.0.10")...)...); ok.Status != 200 {
						t.Errorf("the refused pairing spent the bootstrap token: %d %s", ok.Status, ok.Raw)
					}
					return r
				}, 400, "BAD_REQUEST", "error.json"},
				{"400/no device id", func(t *testing.T) *servertest.Response {
					boot := bootstrap(t, e, admin, "10.0.0.11")
					return e.Do(t, "POST", "/api/v1/auth/pair", device("", "ios"), append(servertest.Bearer(boot), from("10.0.0.11")...)...)
				}, 400, "BAD_REQUEST", "error.json"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.run(t)
					if r.Status != tc.status || r.ErrorCode() != tc.code {
						t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
					}
					apitest.AssertShape(t, r.Raw, "testdata/seed/"+tc.golden)
					if r.Header.Get("X-Api-Version") == "" {
						t.Error("no X-API-Version")
					}
				})
			}
		})
	}
}

// bootstrap redeems a new code from ip and returns its bootstrap token.
func bootstrap(tb testing.TB, e *servertest.Env, admin, ip string) string {
	tb.Helper()
	hdr := pairingHeader
	if ip != "" {
		hdr = append(hdr, from(ip)...)
	}
	r := e.Do(tb, "POST", "/api/v1/pair", map[string]string{"code": newCode(tb, e, admin)}, hdr...)
	if r.Status != 200 {
		tb.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	return r.JSON["bootstrapToken"].(string)
}

// codeAddr numbers the addresses newCode asks from: QR codes are limited
// to 5 at once per address, and the refusal cases need more.
var codeAddr atomic.Int32

// newCode makes a pairing code as the admin, from an address of its own
// when the server trusts X-Forwarded-For.
func newCode(tb testing.TB, e *servertest.Env, admin string) string {
	tb.Helper()
	ip := fmt.Sprintf("198.51.%d.%d", codeAddr.Add(1)/250, codeAddr.Load()%250+1)
	r := e.Do(tb, "GET", "/api/v1/auth/qr", nil, append(servertest.Bearer(admin), from(ip)...)...)
	if r.Status != 200 {
		tb.Fatalf("qr: %d %s", r.Status, r.Raw)
	}
	return r.JSON["code"].(string)
}

func from(ip string) []string { return []string{"X-Forwarded-For", ip} }

// TestPairingGlobalLimit: redemptions from all addresses together are
// limited too (nekzus.PairingGlobal), so that guessers spread over many
// addresses cannot share out the code space; the answers of the allowed
// ones show each address's own budget.
func TestPairingGlobalLimit(t *testing.T) {
	t.Parallel()
	e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) { c.TrustProxyHeaders = true; c.NekzusAuthLimit = 10 })
	for i := range nekzus.PairingGlobal.Max {
		r := e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": "ZZZZZZZZ"}, append(pairingHeader, from(fmt.Sprintf("10.7.%d.%d", i/250, i%250+1))...)...)
		if r.Status != 404 || r.Header.Get("X-RateLimit-Limit") != "10" || r.Header.Get("X-RateLimit-Remaining") != "9" {
			t.Fatalf("redemption %d: %d %v %s", i+1, r.Status, r.Header, r.Raw)
		}
	}
	r := e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": "ZZZZZZZZ"}, append(pairingHeader, from("10.8.0.1")...)...)
	if r.Status != 429 || r.ErrorCode() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" ||
		r.Header.Get("X-RateLimit-Limit") != strconv.Itoa(nekzus.PairingGlobal.Max) {
		t.Fatalf("redemption past the global limit: %d %v %s", r.Status, r.Header, r.Raw)
	}
	apitest.AssertShape(t, r.Raw, "testdata/seed/pair_rate_limited.json")
}
