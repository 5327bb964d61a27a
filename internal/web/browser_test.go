package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/psk"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// browser is a headless Chromium driving one test server, writing a
// screenshot of each page it is asked to into the test's artifact folder
// (kept with go test -artifacts -outputdir DIR).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

// newBrowser starts Chromium with a new empty profile; it stops at test
// end. Chromium is a real peer: missing, the test fails when peers are
// required and skips otherwise.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := testpeer.Command(t, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 1366), // a tablet held upright: the front desk's
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, for as long as ctx
		t.Fatalf("starting chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: base, dir: t.ArtifactDir()}
}

// stepTimeout bounds one browser step.
const stepTimeout = 30 * time.Second

// get runs one action and returns its value, failing the test with what on
// error.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// run runs actions in order, failing the test with what on error.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	get(b, what, chromedp.Steps(steps...))
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// open navigates to path and waits for the page's heading.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(css("h1")))
}

// text is the text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(get(b, "text of "+sel, chromedp.Text(css(sel))))
}

// heading is the page's h1.
func (b *browser) heading() string { return b.text("h1") }

// body is the whole page's text.
func (b *browser) body() string { return b.text("body") }

// attr is attribute name of the first element matching sel.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	a := get(b, name+" of "+sel, chromedp.AttributeValue(css(sel), name))
	if !a.Exists {
		b.t.Fatalf("%s has no %s", sel, name)
	}
	return a.Value
}

// path is the current URL's path and query.
func (b *browser) path() string {
	b.t.Helper()
	return strings.TrimPrefix(get(b, "location", chromedp.Location()), b.base)
}

// shot writes a full-page PNG screenshot named name.
func (b *browser) shot(name string) {
	b.t.Helper()
	buf := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// submit fills the fields (selector → value) and clicks the button.
func (b *browser) submit(fields map[string]string, button string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.SetValue(css(sel), v))
	}
	b.run("fill for "+button, steps...)
	b.click(button, "h1")
}

// click clicks sel and waits for the next page's then to be visible: the
// page it leaves is marked first, so that its own elements do not count.
func (b *browser) click(sel, then string) {
	b.t.Helper()
	get(b, "mark the page", chromedp.Evaluate[bool](`document.documentElement.setAttribute("data-left", "1"), true`))
	b.run("click "+sel, chromedp.Click(css(sel)), chromedp.WaitVisible(css("html:not([data-left]) "+then)))
}

// waitFor waits until sel is visible (a live update, a page).
func (b *browser) waitFor(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(css(sel)))
}

// qr decodes the QR code image (a data: URL) of the first element
// matching sel.
func (b *browser) qr(sel string) string {
	b.t.Helper()
	src := b.attr(sel, "src")
	data, found := strings.CutPrefix(src, "data:image/png;base64,")
	if !found {
		b.t.Fatalf("%s has no PNG data URL: %.60q", sel, src)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		b.t.Fatal(err)
	}
	return decodeQR(b.t, raw)
}

// decodeQR reads the text of the QR code in a PNG.
func decodeQR(tb testing.TB, pngBytes []byte) string {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		tb.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	// The image is the code alone (no photo), which the pure-barcode mode
	// reads exactly; the detector's try-harder mode is the fallback.
	var errs []error
	for _, hint := range []gozxing.DecodeHintType{gozxing.DecodeHintType_PURE_BARCODE, gozxing.DecodeHintType_TRY_HARDER} {
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{hint: true})
		if err == nil {
			return res.GetText()
		}
		errs = append(errs, err)
	}
	tb.Fatalf("decoding QR code: %v", errs)
	return ""
}

// fetchText fetches path from the page (with its cookies) and returns the
// body, as a download link would get it.
func (b *browser) fetchText(path string) string {
	b.t.Helper()
	return get(b, "fetch "+path, chromedp.Evaluate[string](
		fmt.Sprintf(`fetch(%q).then(r => r.ok ? r.text() : "HTTP " + r.status)`, path), chromedp.EvalAwaitPromise))
}

// TestDashboardInBrowser walks the dashboard's main flows in headless
// Chromium against a real server: first-run setup, MFA enrolment and a
// sign-in with TOTP, a guest PSK whose QR code joins the WiFi, approving a
// pending mesh node (and a new node appearing live), a VPN config, an API
// key shown exactly once, a USER kept out of the admin pages, and another
// group's data absent.
func TestDashboardInBrowser(t *testing.T) {
	e := servertest.Start(t, config.SQLite)
	b := newBrowser(t, e.URL)

	// First run: / leads to the setup page.
	b.open("/")
	if h := b.heading(); h != "Set up netkeep" {
		t.Fatalf("first page %q, want the setup page", h)
	}
	b.shot("01-setup")
	b.submit(map[string]string{"#username": "admin", "#password": "correct horse 1", "#confirm": "correct horse 1"}, "button[type=submit]")
	if h := b.heading(); h != "Two-factor sign-in" {
		t.Fatalf("after setup: %q (%s)", h, b.body())
	}

	// MFA enrolment: the QR code holds the otpauth URI of the key shown.
	b.submit(nil, "main button[type=submit]")
	secret := b.text("#mfa-secret")
	uri := b.qr("#mfa-qr")
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("MFA QR code %q does not hold the key %s", uri, secret)
	}
	b.shot("02-mfa-enrol")
	b.submit(map[string]string{"#code": totp(t, secret, time.Now())}, "main form button[type=submit]")
	if !strings.Contains(b.body(), "Two-factor sign-in is on") {
		t.Fatalf("MFA not enabled: %s", b.body())
	}

	// Sign out, and in again: password, then the TOTP step.
	b.click("header form button", "#username")
	b.shot("03-login")
	b.submit(map[string]string{"#username": "admin", "#password": "correct horse 1"}, "main button[type=submit]")
	if !strings.Contains(b.body(), "6-digit code") {
		t.Fatalf("no TOTP step: %s", b.body())
	}
	b.shot("04-login-totp")
	b.submit(map[string]string{"#code": totp(t, secret, time.Now().Add(30*time.Second))}, "main button[type=submit]")
	if h := b.heading(); h != "Overview" {
		t.Fatalf("after sign-in: %q (%s)", h, b.body())
	}
	b.shot("05-overview")

	// RADIUS client: its shared secret is shown once.
	b.open("/ui/radius")
	b.submit(map[string]string{"#rc-name": "lobby-ap", "#rc-address": "192.0.2.10", "#rc-ssids": "Guest WiFi"}, "main form button[type=submit]")
	radiusSecret := b.text("#radius-secret")
	if len(radiusSecret) < 16 {
		t.Fatalf("RADIUS secret %q", radiusSecret)
	}
	b.shot("06-radius-secret-once")
	b.open("/ui/radius")
	if strings.Contains(b.body(), radiusSecret) {
		t.Fatal("the RADIUS secret is shown again")
	}

	// Front desk: a guest in two fields; the QR code joins the WiFi.
	b.open("/ui/psks")
	b.submit(map[string]string{"#guest-name": "Jane Doe", "#guest-hours": "48"}, "form[action='/ui/psks'] button[type=submit]")
	pass := b.text(".card-pass")
	if len(pass) < 8 {
		t.Fatalf("no passphrase on the guest page: %s", b.body())
	}
	if got, want := b.qr(".card img.qr"), "WIFI:T:WPA;S:Guest WiFi;P:"+pass+";;"; got != want {
		t.Fatalf("guest QR code %q, want %q", got, want)
	}
	b.shot("07-guest")
	guestPath := b.path()
	b.click("a[href*='/card']", ".card")
	b.shot("08-guest-card")
	// The list: a PSK made elsewhere (the API, another desk) appears
	// without a reload; the search narrows the list as one types.
	admin := principalOf(t, e, "admin")
	b.open("/ui/psks")
	b.waitFor("body[data-live-ready]")
	if _, err := e.Server.PSKs.Create(context.Background(), admin, servertest.Src, 0, psk.NewPSK{PSKID: "walk-in", Description: "Walk-in"}); err != nil {
		t.Fatal(err)
	}
	b.waitFor("tr[data-psk='walk-in']")
	b.run("type a search", chromedp.SendKeys(css("#search"), "WALK"))
	b.waitFor("#psk-list p[data-total='1']")
	if strings.Contains(b.text("#psk-list"), "Jane Doe") {
		t.Fatal("the search did not narrow the list")
	}
	b.shot("09-psks")

	// Mesh: a pending node is approved; a node joining later appears live.
	netid, meshKey := pendingNode(t, e, admin, "02:00:00:00:00:01")
	b.open("/ui/mesh/" + netid)
	if !strings.Contains(b.text("tr[data-node='02:00:00:00:00:01']"), "pending") {
		t.Fatalf("node not pending: %s", b.body())
	}
	b.shot("10-mesh-pending")
	b.submit(nil, "tr[data-node='02:00:00:00:00:01'] form[action$='/approve'] button")
	if row := b.text("tr[data-node='02:00:00:00:00:01']"); strings.Contains(row, "pending") {
		t.Fatalf("node still pending after approval: %s", row)
	}
	b.waitFor("body[data-live-ready]")
	join(t, e, netid, meshKey, "02:00:00:00:00:02")
	b.waitFor("tr[data-node='02:00:00:00:00:02']") // without a reload
	b.shot("11-mesh")

	// VPN: generate a config and download it.
	gatewayFor(t, e, admin)
	b.open("/ui/configs")
	b.submit(nil, "form[action='/ui/configs'] button")
	ovpn := b.fetchText(b.attr("#config-download", "href"))
	if !strings.Contains(ovpn, "client") || !strings.Contains(ovpn, "<ca>") || !strings.Contains(ovpn, "BEGIN PRIVATE KEY") {
		t.Fatalf("downloaded config is no OpenVPN client config: %.200q", ovpn)
	}
	b.shot("12-vpn-config")

	// API key: shown once, and it works.
	b.open("/ui/keys")
	b.run("scope", chromedp.Click(css("input[value='psks:read']")))
	b.submit(map[string]string{"#key-name": "inventory script"}, "form[action='/ui/keys'] button[type=submit]")
	key := b.text("#new-key")
	if r := e.Do(t, "GET", "/api/v1/psks", nil, "X-API-Key", key); r.Status != 200 {
		t.Fatalf("the new key does not work: %d %s", r.Status, r.Raw)
	}
	b.shot("13-api-key-once")
	b.open("/ui/keys")
	html := get(b, "page source", chromedp.OuterHTML(css("html")))
	if strings.Contains(html, key) || !strings.Contains(html, "inventory script") {
		t.Fatal("the key is shown again, or not listed")
	}

	// Administration: a front desk USER, made through the admin page.
	b.open("/ui/admin/users")
	b.submit(map[string]string{"#u-name": "desk", "#u-email": "desk@example.com", "#u-pass": "front desk 1", "#u-role": "USER"},
		"form[action='/ui/admin/users'] button[type=submit]")
	if !strings.Contains(b.body(), "desk@example.com") {
		t.Fatalf("user not listed: %s", b.body())
	}
	b.shot("14-users")
	b.open("/ui/admin/audit")
	if !strings.Contains(b.body(), "user.create") {
		t.Fatalf("audit log lacks the user creation: %s", b.body())
	}
	b.shot("15-audit")
	b.open("/ui/pki")
	b.shot("16-pki")

	// The USER sees no admin page.
	b.click("header form button", "#username")
	b.submit(map[string]string{"#username": "desk", "#password": "front desk 1"}, "main button[type=submit]")
	if strings.Contains(b.text("header"), "Admin") {
		t.Error("a USER's navigation links the admin pages")
	}
	for _, p := range []string{"/ui/admin/users", "/ui/admin/audit", "/ui/admin/settings", "/ui/radius"} {
		b.open(p)
		if h := b.heading(); h != "Not allowed" {
			t.Errorf("USER on %s: %q, want Not allowed", p, h)
		}
	}
	b.shot("17-user-refused")

	// Another group's administrator sees none of it.
	e.CreateUser(t, "admin-b", "password b1", identity.GroupAdmin, "B")
	b.click("header form button", "#username")
	b.submit(map[string]string{"#username": "admin-b", "#password": "password b1"}, "main button[type=submit]")
	b.open("/ui/psks")
	if strings.Contains(b.body(), "Jane Doe") {
		t.Error("group B sees group A's guest")
	}
	b.open(guestPath)
	if h := b.heading(); h != "Not found" {
		t.Errorf("group B on A's PSK: %q, want Not found", h)
	}
	b.open("/ui/mesh")
	if strings.Contains(b.body(), netid) {
		t.Error("group B sees group A's mesh network")
	}
	b.open("/ui/radius")
	if strings.Contains(b.body(), "lobby-ap") {
		t.Error("group B sees group A's RADIUS client")
	}
}
