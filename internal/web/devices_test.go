package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"netkeep/internal/device"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

var pairCode = regexp.MustCompile(`id="pair-code">([^<]+)<`)

// The devices page pairs a phone: its code redeems through Nekzus's API,
// the paired device is listed, and revoking it ends its token; another
// group's admin sees none of it.
func TestDevicesPage(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "A")
	e.CreateUser(t, "other", "password1", identity.GroupAdmin, "B")
	v := signedIn(t, e, "admin", "password1")
	if pg := v.get(t, "/ui/devices"); pg.status != http.StatusOK || !strings.Contains(pg.body, "No device is paired yet") {
		t.Fatalf("empty page: %d", pg.status)
	}
	pg := v.post(t, "/ui/devices", "/ui/devices/pair", url.Values{})
	m := pairCode.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil || !strings.Contains(pg.body, `src="data:image/png;base64,`) {
		t.Fatalf("pair: %d, code %v", pg.status, m)
	}
	code := html.UnescapeString(m[1])

	// The app redeems the code and pairs.
	r := e.Do(t, "POST", "/api/v1/pair", map[string]string{"code": code}, "X-Pairing-Request", "true")
	if r.Status != http.StatusOK {
		t.Fatalf("redeem: %d %s", r.Status, r.Raw)
	}
	r = e.Do(t, "POST", "/api/v1/auth/pair", map[string]any{"device": map[string]string{"id": "tablet-1", "model": "Pad", "platform": "android"}},
		servertest.Bearer(r.JSON["bootstrapToken"].(string))...)
	if r.Status != http.StatusOK {
		t.Fatalf("pair: %d %s", r.Status, r.Raw)
	}
	token := r.JSON["accessToken"].(string)
	if pg := v.get(t, "/ui/devices"); !strings.Contains(pg.body, "Pad") || !strings.Contains(pg.body, "/ui/devices/tablet-1/revoke") {
		t.Fatalf("paired device not listed:\n%s", pg.body)
	}
	if pg := signedIn(t, e, "other", "password1").get(t, "/ui/devices"); strings.Contains(pg.body, "tablet-1") {
		t.Fatal("another group's admin sees the device")
	}
	if pg := v.post(t, "/ui/devices", "/ui/devices/tablet-1/revoke", url.Values{}); pg.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", pg.status, pg.body)
	}
	if _, err := e.Server.Devices.Authenticate(context.Background(), token); err == nil {
		t.Fatal("a revoked device's token still works")
	}
	ds, _, err := e.Server.Devices.List(context.Background(), principalOf(t, e, "admin"), device.Page{})
	if err != nil || len(ds) != 0 {
		raw, _ := json.Marshal(ds)
		t.Fatalf("a revoked device is still listed: %s %v", raw, err)
	}
	if pg := v.get(t, "/ui/devices"); strings.Contains(pg.body, "tablet-1") {
		t.Fatal("the page still lists the revoked device")
	}
}
