package nekzus_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"netkeep/internal/server/servertest"
)

// cookieUpstream sets and clears cookies on /login and /logout and reports
// the Cookie header it got on every other path.
func cookieUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cret-session", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			http.SetCookie(w, &http.Cookie{Name: "pref", Value: "dark", Path: "/admin"})
		case "/logout":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "", Path: "/", MaxAge: -1})
		}
		_, _ = w.Write([]byte(r.Header.Get("Cookie")))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestProxyCookieVault: cookies an app sets through the proxy for a paired
// device are kept in the device's vault and sent on its later requests,
// by path, so the webview stays signed in to the app when it has lost its
// own jar; the webview's own cookies win; an app's expiry retires one;
// users and other devices never get a device's cookies; the vault shows
// counts, never values.
func TestProxyCookieVault(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newAppsWorld(t, e)
		up := cookieUpstream(t)
		route(t, e, w.adminA, "wiki", up.URL, nil)
		admin, _ := e.Login(t, "apps-admin-a", "password1")
		phone := servertest.Bearer(pairDevice(t, e, admin, "vault-phone"))
		tablet := servertest.Bearer(pairDevice(t, e, admin, "vault-tablet"))
		get := func(hdr []string, path string, cookie string) string {
			t.Helper()
			if cookie != "" {
				hdr = append(append([]string{}, hdr...), "Cookie", cookie)
			}
			r := e.Do(t, "GET", "/apps/wiki"+path, nil, hdr...)
			if r.Status != 200 {
				t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
			}
			return string(r.Raw)
		}

		if got := get(phone, "/login", ""); got != "" {
			t.Fatalf("first request sent cookies: %q", got)
		}
		tests := []struct {
			name   string
			hdr    []string
			path   string
			cookie string // the webview's own
			want   string // the Cookie header the app gets
		}{
			{"the vault signs the device in", phone, "/page", "", "sid=s3cret-session"},
			{"cookies go by path", phone, "/admin/x", "", "pref=dark; sid=s3cret-session"},
			{"the webview's own cookie wins", phone, "/page", "sid=fresh", "sid=fresh"},
			{"another device gets none", tablet, "/page", "", ""},
			{"a user's token gets none", w.adminA, "/page", "", ""},
		}
		for _, tt := range tests {
			if got := get(tt.hdr, tt.path, tt.cookie); got != tt.want {
				t.Errorf("%s: app got Cookie %q, want %q", tt.name, got, tt.want)
			}
		}

		r := e.Do(t, "GET", "/api/v1/session-cookies", nil, phone...)
		if r.Status != 200 || !strings.Contains(string(r.Raw), `"appId":"wiki","cookieCount":2`) || strings.Contains(string(r.Raw), "s3cret") {
			t.Fatalf("sessions: %d %s", r.Status, r.Raw)
		}
		get(phone, "/logout", "")
		if got := get(phone, "/page", ""); got != "" {
			t.Errorf("after the app expired sid: %q", got)
		}
		get(phone, "/login", "")
		if r := e.Do(t, "DELETE", "/api/v1/session-cookies/wiki", nil, phone...); r.Status != 204 {
			t.Fatalf("clear: %d %s", r.Status, r.Raw)
		}
		if got := get(phone, "/admin/x", ""); got != "" {
			t.Errorf("after clearing the app's cookies: %q", got)
		}
	})
}
