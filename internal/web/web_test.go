package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"netkeep/internal/api"
	"netkeep/internal/identity"
	"netkeep/internal/psk"
	"netkeep/internal/server/servertest"
)

// page is one answer of the dashboard, read whole.
type page struct {
	status int
	header http.Header
	body   string
}

// visitor is a browser without JavaScript: a cookie jar, no redirects
// followed, and the same-origin headers a browser sends on a form post.
type visitor struct {
	e      *servertest.Env
	client *http.Client
}

func newVisitor(tb testing.TB, e *servertest.Env) *visitor {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &visitor{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn is a visitor holding a session of username.
func signedIn(tb testing.TB, e *servertest.Env, username, password string) *visitor {
	tb.Helper()
	v := newVisitor(tb, e)
	u, _ := url.Parse(e.URL)
	v.client.Jar.SetCookies(u, []*http.Cookie{{Name: api.SessionCookie, Value: e.WebSession(tb, username, password), Path: "/"}})
	return v
}

func (v *visitor) do(tb testing.TB, req *http.Request) page {
	tb.Helper()
	res, err := v.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (v *visitor) get(tb testing.TB, path string) page {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, v.e.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return v.do(tb, req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token is the form token of the page at path.
func (v *visitor) token(tb testing.TB, path string) string {
	tb.Helper()
	m := csrfField.FindStringSubmatch(v.get(tb, path).body)
	if m == nil {
		tb.Fatalf("no form token on %s", path)
	}
	return m[1]
}

// post sends a form as a page of this server would (Origin is the
// server's), with the token of the page at from ("" sends none).
func (v *visitor) post(tb testing.TB, from, path string, form url.Values) page {
	tb.Helper()
	if from != "" {
		form.Set("csrf", v.token(tb, from))
	}
	return v.postRaw(tb, path, form, v.e.URL)
}

func (v *visitor) postRaw(tb testing.TB, path string, form url.Values, origin string) page {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, v.e.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return v.do(tb, req)
}

func TestSignInFlow(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		v := newVisitor(t, e)
		if p := v.get(t, "/ui/psks"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/login?next=%2Fui%2Fpsks" {
			t.Fatalf("anonymous: %d %s", p.status, p.header.Get("Location"))
		}
		if p := v.get(t, "/ui/login"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/setup" {
			t.Fatalf("login before setup: %d %s", p.status, p.header.Get("Location"))
		}
		form := url.Values{"username": {"root"}, "password": {"password one"}, "confirm": {"password two"}}
		if p := v.post(t, "/ui/setup", "/ui/setup", form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "differ") {
			t.Fatalf("setup, passwords differ: %d", p.status)
		}
		form.Set("confirm", "password one")
		if p := v.post(t, "/ui/setup", "/ui/setup", form); p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/account/mfa" {
			t.Fatalf("setup: %d %s", p.status, p.body)
		}
		if p := v.get(t, "/ui/"); p.status != http.StatusOK || !strings.Contains(p.body, "Signed in as <strong>root</strong>") {
			t.Fatalf("after setup: %d", p.status)
		}
		// Setup is over: the page sends to sign-in, and a second setup is refused.
		other := newVisitor(t, e)
		if p := other.get(t, "/ui/setup"); p.status != http.StatusSeeOther {
			t.Fatalf("setup page after setup: %d", p.status)
		}
		form.Set("username", "intruder")
		if p := other.post(t, "/ui/login", "/ui/setup", form); p.status != http.StatusConflict {
			t.Fatalf("second setup: %d", p.status)
		}
		bad := url.Values{"username": {"root"}, "password": {"wrong password"}}
		if p := other.post(t, "/ui/login", "/ui/login", bad); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "invalid username or password") {
			t.Fatalf("wrong password: %d", p.status)
		}
		// Signing out ends the session: its cookie, replayed, then leads to
		// sign-in, which says the session ended.
		stale := e.WebSession(t, "root", "password one")
		w := newVisitor(t, e)
		u, _ := url.Parse(e.URL)
		w.client.Jar.SetCookies(u, []*http.Cookie{{Name: api.SessionCookie, Value: stale, Path: "/"}})
		if p := w.get(t, "/ui/psks"); p.status != http.StatusOK {
			t.Fatalf("with a session: %d", p.status)
		}
		if p := w.post(t, "/ui/", "/ui/logout", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("logout: %d", p.status)
		}
		w.client.Jar.SetCookies(u, []*http.Cookie{{Name: api.SessionCookie, Value: stale, Path: "/"}})
		if p := w.get(t, "/ui/psks"); p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Location"), "expired=1") {
			t.Fatalf("replayed cookie after logout: %d %s", p.status, p.header.Get("Location"))
		}
		if p := v.get(t, "/ui/"); p.status != http.StatusOK {
			t.Fatalf("another session of the same user ended too: %d", p.status)
		}
		if p := v.get(t, "/ui/login?expired=1"); !strings.Contains(p.body, "Your session has ended") {
			t.Fatal("the sign-in page does not say the session ended")
		}
	})
}

func TestFormsNeedTokenAndOrigin(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "A")
	v := signedIn(t, e, "alice", "password1")
	good := v.token(t, "/ui/psks")
	tests := []struct {
		name   string
		form   url.Values
		origin string
		want   int
	}{
		{"303/own page", url.Values{"csrf": {good}, "name": {"ok"}, "hours": {"1"}}, e.URL, http.StatusSeeOther},
		{"403/no token", url.Values{"name": {"x"}, "hours": {"1"}}, e.URL, http.StatusForbidden},
		{"403/wrong token", url.Values{"csrf": {good + "x"}, "name": {"x"}, "hours": {"1"}}, e.URL, http.StatusForbidden},
		{"403/other site", url.Values{"csrf": {good}, "name": {"x"}, "hours": {"1"}}, "https://evil.example", http.StatusForbidden},
		{"403/no origin", url.Values{"csrf": {good}, "name": {"x"}, "hours": {"1"}}, "", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if p := v.postRaw(t, "/ui/psks", tc.form, tc.origin); p.status != tc.want {
				t.Fatalf("%d, want %d", p.status, tc.want)
			}
		})
	}
	page, err := e.Server.PSKs.List(context.Background(), principalOf(t, e, "alice"), psk.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 {
		t.Fatalf("%d PSKs stored, want only the accepted form's", page.Total)
	}
	// Another session's token does not pass.
	e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "A")
	bob := signedIn(t, e, "bob", "password1")
	if p := bob.postRaw(t, "/ui/psks", url.Values{"csrf": {good}, "hours": {"1"}}, e.URL); p.status != http.StatusForbidden {
		t.Fatalf("another session's token: %d", p.status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	v := newVisitor(t, e)
	for _, path := range []string{"/ui/setup", "/static/app.css"} {
		p := v.get(t, path)
		csp := p.header.Get("Content-Security-Policy")
		if p.status != http.StatusOK || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: %d, CSP %q", path, p.status, csp)
		}
		if p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	if p := v.get(t, "/ui/setup"); strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, " onclick=") {
		t.Error("a page carries inline script or style")
	}
	var formCookie *http.Cookie
	res, err := v.client.Get(e.URL + "/ui/setup")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "netkeep_form" {
			formCookie = c
		}
	}
	// A fresh visitor gets the pre-sign-in cookie: HttpOnly, SameSite=Strict.
	if formCookie != nil && (!formCookie.HttpOnly || formCookie.SameSite != http.SameSiteStrictMode) {
		t.Errorf("form cookie %+v", formCookie)
	}
	if p := v.get(t, "/static/nope.js"); p.status != http.StatusNotFound {
		t.Errorf("unknown static file: %d", p.status)
	}
}

// TestPagesFollowTheDomain: a page shows and changes what the API would
// let the caller, as the same principal: a USER is refused the admin
// pages, another group's objects are not found.
func TestPagesFollowTheDomain(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "admin-a", "password1", identity.GroupAdmin, "A")
		e.CreateUser(t, "user-a", "password1", identity.RoleUser, "A")
		e.CreateUser(t, "admin-b", "password1", identity.GroupAdmin, "B")
		adminA := principalOf(t, e, "admin-a")
		p, err := e.Server.PSKs.Create(context.Background(), adminA, servertest.Src, 0, psk.NewPSK{PSKID: "lobby", Description: "A's lobby"})
		if err != nil {
			t.Fatal(err)
		}
		netid, _ := pendingNode(t, e, adminA, "02:00:00:00:00:09")
		a, u, b := signedIn(t, e, "admin-a", "password1"), signedIn(t, e, "user-a", "password1"), signedIn(t, e, "admin-b", "password1")
		pskPath := "/ui/psks/" + itoa(p.ID)
		tests := []struct {
			name string
			who  *visitor
			path string
			want int
			has  string
		}{
			{"200/admin psk", a, pskPath, http.StatusOK, p.Passphrase},
			{"404/other group psk", b, pskPath, http.StatusNotFound, ""},
			{"200/other group list", b, "/ui/psks", http.StatusOK, "0 PSKs"},
			{"200/admin network", a, "/ui/mesh/" + netid, http.StatusOK, "pending"},
			{"404/other group network", b, "/ui/mesh/" + netid, http.StatusNotFound, ""},
			{"403/user admin users", u, "/ui/admin/users", http.StatusForbidden, ""},
			{"403/user audit", u, "/ui/admin/audit", http.StatusForbidden, ""},
			{"403/user settings", u, "/ui/admin/settings", http.StatusForbidden, ""},
			{"200/admin settings", a, "/ui/admin/settings", http.StatusOK, "client-config-ttl"},
			{"403/user radius", u, "/ui/radius", http.StatusForbidden, ""},
			{"404/no such config", a, "/ui/configs/cfg-0000000000000000/download", http.StatusNotFound, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				pg := tc.who.get(t, tc.path)
				if pg.status != tc.want || !strings.Contains(pg.body, tc.has) {
					t.Fatalf("%d, want %d with %q", pg.status, tc.want, tc.has)
				}
			})
		}
		// Changes: B cannot approve A's node nor delete A's PSK.
		if pg := b.post(t, "/ui/psks", "/ui/mesh/"+netid+"/nodes/02:00:00:00:00:09/approve", url.Values{}); pg.status != http.StatusNotFound {
			t.Fatalf("B approves A's node: %d", pg.status)
		}
		if pg := b.post(t, "/ui/psks", pskPath+"/delete", url.Values{}); pg.status != http.StatusNotFound {
			t.Fatalf("B deletes A's PSK: %d", pg.status)
		}
		if _, err := e.Server.PSKs.Get(context.Background(), adminA, p.ID); err != nil {
			t.Fatalf("A's PSK after B's attempt: %v", err)
		}
		if pg := a.post(t, "/ui/psks", "/ui/mesh/"+netid+"/nodes/02:00:00:00:00:09/approve", url.Values{}); pg.status != http.StatusSeeOther {
			t.Fatalf("A approves: %d %s", pg.status, pg.body)
		}
		if pg := a.get(t, "/ui/mesh/"+netid); strings.Contains(pg.body, "badge warn\">pending") {
			t.Fatal("node still pending")
		}
	})
}

// TestGuestLifecycle: disable, extend and delete from the PSK page, and
// bulk guests on printable cards.
func TestGuestLifecycle(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	e.CreateUser(t, "desk", "password1", identity.RoleUser, "A")
	v := signedIn(t, e, "desk", "password1")
	me := principalOf(t, e, "desk")
	pg := v.post(t, "/ui/psks", "/ui/psks", url.Values{"name": {"Room 12"}, "hours": {"2"}, "ssid": {"Hotel"}})
	if pg.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", pg.status, pg.body)
	}
	loc := pg.header.Get("Location")
	path := loc[:strings.Index(loc, "?")]
	list, err := e.Server.PSKs.List(context.Background(), me, psk.Filter{})
	if err != nil || list.Total != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	id := list.PSKs[0].ID
	steps := []struct {
		name   string
		action string
		form   url.Values
		check  func(*psk.PSK) bool
	}{
		{"disable", "/disable", url.Values{}, func(p *psk.PSK) bool { return !p.Enabled }},
		{"enable", "/enable", url.Values{}, func(p *psk.PSK) bool { return p.Enabled }},
		{"extend", "/extend", url.Values{"hours": {"72"}}, func(p *psk.PSK) bool {
			return p.Expires != nil && p.Expires.Sub(e.Server.PSKs.Now()).Hours() > 70
		}},
	}
	for _, s := range steps {
		if pg := v.post(t, path, path+s.action, s.form); pg.status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", s.name, pg.status, pg.body)
		}
		p, err := e.Server.PSKs.Get(context.Background(), me, id)
		if err != nil || !s.check(p) {
			t.Fatalf("after %s: %+v %v", s.name, p, err)
		}
	}
	if pg := v.post(t, path, path+"/extend", url.Values{"hours": {"0"}}); pg.status != http.StatusBadRequest {
		t.Fatalf("extend by 0: %d", pg.status)
	}
	if pg := v.post(t, path, path+"/delete", url.Values{}); pg.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", pg.status)
	}
	if pg := v.get(t, path); pg.status != http.StatusNotFound {
		t.Fatalf("deleted PSK page: %d", pg.status)
	}
	pg = v.post(t, "/ui/psks", "/ui/psks/bulk", url.Values{"count": {"3"}, "name": {"Conf"}, "hours": {"8"}, "ssid": {"Hotel"}})
	if pg.status != http.StatusOK || strings.Count(pg.body, `class="card"`) != 3 || !strings.Contains(pg.body, "Conf 3") {
		t.Fatalf("bulk: %d, %d cards", pg.status, strings.Count(pg.body, `class="card"`))
	}
	if pg := v.post(t, "/ui/psks", "/ui/psks/bulk", url.Values{"count": {"101"}, "hours": {"8"}}); pg.status != http.StatusBadRequest {
		t.Fatalf("bulk of 101: %d", pg.status)
	}
}

// TestImportPreview: an upload is checked row by row and nothing is
// written until the checked text is confirmed.
func TestImportPreview(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	e.CreateUser(t, "admin-a", "password1", identity.GroupAdmin, "A")
	v := signedIn(t, e, "admin-a", "password1")
	me := principalOf(t, e, "admin-a")
	upload := func(csv, step string) page {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", v.token(t, "/ui/import"))
		_ = mw.WriteField("step", step)
		if step == "preview" {
			fw, _ := mw.CreateFormFile("file", "psks.csv")
			_, _ = fw.Write([]byte(csv))
		} else {
			_ = mw.WriteField("csv", csv)
		}
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/ui/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", e.URL)
		return v.do(t, req)
	}
	bad := "psk_id,vlan_id,mac_address\nroom-1,10,aa:bb:cc:dd:ee:01\nroom-2,9999,\nroom-1,,\n,,not-a-mac\n"
	pg := upload(bad, "preview")
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "3 rows have a problem") ||
		!strings.Contains(pg.body, "also on line 2") || !strings.Contains(pg.body, "vlan_id") || strings.Contains(pg.body, `name="step" value="import"`) {
		t.Fatalf("preview of a bad file: %d\n%s", pg.status, pg.body)
	}
	good := "psk_id,mac_address\nroom-1,aa:bb:cc:dd:ee:01\nroom-2,\n"
	if pg := upload(good, "preview"); !strings.Contains(pg.body, "every row is fine") || !strings.Contains(pg.body, `name="step" value="import"`) {
		t.Fatalf("preview of a good file: %s", pg.body)
	}
	if list, _ := e.Server.PSKs.List(context.Background(), me, psk.Filter{}); list.Total != 0 {
		t.Fatalf("the preview wrote %d PSKs", list.Total)
	}
	if pg := upload(good, "import"); pg.status != http.StatusSeeOther || !strings.Contains(pg.header.Get("Location"), "Imported+2+PSKs+and+1+endpoints") {
		t.Fatalf("import: %d %s", pg.status, pg.header.Get("Location"))
	}
	if pg := upload(good, "import"); pg.status != http.StatusConflict {
		t.Fatalf("importing again: %d", pg.status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSessionOverBudget: a session over its request budget
// (api.SessionLimits) gets "too many requests" and stays signed in.
func TestSessionOverBudget(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	e.CreateUser(t, "busy", "password1", identity.RoleUser, "A")
	v := signedIn(t, e, "busy", "password1")
	limit := api.SessionLimits[0].Max
	var last page
	for range limit + 1 {
		if last = v.get(t, "/static/app.css"); last.status != http.StatusOK {
			t.Fatal("static files need no session")
		}
		if last = v.get(t, "/ui/account/mfa"); last.status != http.StatusOK {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Fatalf("over the budget: %d", last.status)
	}
	for _, c := range v.client.Jar.Cookies(mustURL(t, e.URL)) {
		if c.Name == api.SessionCookie {
			return
		}
	}
	t.Fatal("the session cookie was dropped")
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
