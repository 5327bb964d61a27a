package oidcrp_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
	"netkeep/internal/sso/ssotest"
)

// quiet is the example OP's logger (it becomes the process default).
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startZitadelOP runs zitadel's example OpenID provider in process, with a
// confidential web client for netkeep rp, and returns its issuer.
func startZitadelOP(tb testing.TB, clientID, secret, redirect string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	storage.RegisterClients(storage.WebClient(clientID, secret, redirect))
	srv := &httptest.Server{Listener: ln, Config: &http.Server{
		Handler: exampleop.SetupServer(issuer, storage.NewStorage(storage.NewUserStore(issuer)), quiet, false)}}
	srv.Start()
	tb.Cleanup(srv.Close)
	return issuer
}

// zitadelSignIn runs a browser from rp's login through the example OP's
// login form and stops at rp's callback, returning the browser (with
// rp's state cookie) and the callback URL.
func zitadelSignIn(tb testing.TB, rp *servertest.Env, issuer, provider string) (*ssotest.Browser, *url.URL) {
	tb.Helper()
	b := ssotest.NewBrowser(tb, issuer, rp.URL+"/") // the callback, and from it the web UI
	p := b.Get(tb, rp.URL+"/api/v1/auth/oidc/login?provider="+provider)
	if p.Status != http.StatusOK || p.URL.Path != "/login/username" {
		tb.Fatalf("login did not reach the provider's form: %s %d %s", p.URL, p.Status, p.Body)
	}
	p = b.Submit(tb, "/login/username", url.Values{"id": {ssotest.FormID(tb, p)}, "username": {"test-user2"}, "password": {"verysecure"}})
	return b, ssotest.RedirectTo(tb, p)
}

// TestZitadelExampleProvider signs in through zitadel's example OP, and
// checks that the callback refuses a wrong state, a missing login state and
// a replayed code.
func TestZitadelExampleProvider(t *testing.T) {
	rp := servertest.Start(t, config.SQLite)
	callback := rp.URL + "/api/v1/auth/oidc/callback"
	issuer := startZitadelOP(t, "netkeep-rp", "rp-secret", callback)
	r := rp.Do(t, "POST", "/api/v1/sso/providers", map[string]any{"name": "zitadel", "type": "oidc",
		"settings":      map[string]any{"issuer": issuer, "client_id": "netkeep-rp", "username_claim": "preferred_username"},
		"client_secret": "rp-secret"}, servertest.Master()...)
	if r.Status != http.StatusCreated {
		t.Fatalf("configuring the provider: %d %s", r.Status, r.Raw)
	}

	t.Run("signs in", func(t *testing.T) {
		b, cb := zitadelSignIn(t, rp, issuer, "zitadel")
		p := b.Get(t, cb.String())
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
			t.Fatalf("callback: %d %q %s", p.Status, p.Header.Get("Location"), p.Body)
		}
		s := rp.Do(t, "GET", "/api/v1/auth/session", nil, servertest.Cookie(sessionCookie(t, p))...)
		user, _ := s.JSON["data"].(map[string]any)["user"].(map[string]any)
		if s.Status != http.StatusOK || user["username"] != "test-user2" || user["email"] != "test-user2@zitadel.ch" {
			t.Errorf("session: %d %s", s.Status, s.Raw)
		}
	})

	for _, tc := range []struct {
		name   string
		mangle func(b *ssotest.Browser, cb *url.URL) *url.URL
		status int
		code   string
	}{
		{"wrong state", func(_ *ssotest.Browser, cb *url.URL) *url.URL {
			q := cb.Query()
			q.Set("state", "forged")
			cb.RawQuery = q.Encode()
			return cb
		}, http.StatusBadRequest, "sso_state_mismatch"},
		{"no login state cookie", func(b *ssotest.Browser, cb *url.URL) *url.URL {
			b.C.Jar, _ = newJar()
			return cb
		}, http.StatusBadRequest, "sso_state_mismatch"},
		{"replayed code", func(b *ssotest.Browser, cb *url.URL) *url.URL {
			// The first use signs in; the replay carries the same login
			// state, as an attacker holding both would.
			state := stateCookie(b, cb)
			if p := b.Get(t, cb.String()); p.Status != http.StatusSeeOther {
				t.Fatalf("first use: %d %s", p.Status, p.Body)
			}
			setStateCookie(b, cb, state)
			return cb
		}, http.StatusUnauthorized, "sso_invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, cb := zitadelSignIn(t, rp, issuer, "zitadel")
			p := b.Get(t, tc.mangle(b, cb).String())
			if p.Status != tc.status || !contains(p.Body, `"code":"`+tc.code+`"`) {
				t.Errorf("callback: %d %s, want %d %s", p.Status, p.Body, tc.status, tc.code)
			}
			if c := cookieNamed(p.Header, "netkeep_session"); c != "" {
				t.Errorf("a refused callback set a session cookie")
			}
		})
	}
}
