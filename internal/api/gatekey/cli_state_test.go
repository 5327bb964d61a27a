package gatekey_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// TestCLIWebUIStateFlow replays GateKey's web UI's part of "gatekey
// login": the program's cli/login goes to the UI's /login?cli=true&state=,
// and the UI, once signed in, navigates to cli/complete?state= (its
// Login page); the program's callback then gets the tokens.
func TestCLIWebUIStateFlow(t *testing.T) {
	t.Parallel()
	for _, k := range storetest.Kinds() {
		t.Run(string(k), func(t *testing.T) {
			e := servertest.StartWith(t, k, func(c *config.Config) { c.GateKeyWebLogin = "/login" })
			newGWFixture(t, e)
			web := e.WebSession(t, "alice", password)
			noFollow := *e.Client
			noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			get := func(t *testing.T, path string, headers ...string) *http.Response {
				t.Helper()
				req, err := http.NewRequest("GET", e.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i+1 < len(headers); i += 2 {
					req.Header.Add(headers[i], headers[i+1])
				}
				res, err := noFollow.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = res.Body.Close() })
				return res
			}

			cb := "http://127.0.0.1:53690/callback"
			res := get(t, "/api/v1/auth/cli/login?callback="+url.QueryEscape(cb))
			loc, err := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusFound || err != nil || loc.Path != "/login" || loc.Query().Get("cli") != "true" {
				t.Fatalf("cli/login: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
			}
			state := loc.Query().Get("state")
			if state == "" || strings.Contains(state, "53690") {
				t.Fatalf("state %q (it must not show the callback in clear)", state)
			}
			complete := "/api/v1/auth/cli/complete?state=" + url.QueryEscape(state)
			sameOrigin := []string{"Sec-Fetch-Site", "same-origin"}

			// Not signed in: back to the UI's page with its error.
			res = get(t, complete, sameOrigin...)
			if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusFound || loc == nil ||
				loc.Path != "/login" || loc.Query().Get("error") != "not_logged_in" || loc.Query().Get("state") != state {
				t.Fatalf("without a session: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
			}
			// A link from another site: netkeep's page, no tokens handed over.
			res = get(t, complete, append([]string{"Sec-Fetch-Site", "cross-site"}, servertest.Cookie(web)...)...)
			if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" {
				t.Fatalf("cross-site: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
			}
			// A forged or foreign state.
			for _, bad := range []string{"not-a-state", login(t, e, "alice")} {
				if res := get(t, "/api/v1/auth/cli/complete?state="+url.QueryEscape(bad), append(sameOrigin, servertest.Cookie(web)...)...); res.StatusCode != http.StatusBadRequest {
					t.Fatalf("state %q: %d", bad, res.StatusCode)
				}
			}

			res = get(t, complete, append(sameOrigin, servertest.Cookie(web)...)...)
			loc, err = url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusSeeOther || err != nil || loc.Host != "127.0.0.1:53690" || loc.Path != "/callback" {
				t.Fatalf("complete: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("token") == "" || q.Get("email") != "alice@example.com" || q.Get("expires_in") == "" {
				t.Fatalf("callback query = %v", q)
			}
			// The program's token works as the program uses it.
			var who map[string]any
			decodeAs(t, e.Do(t, "GET", "/api/v1/auth/session", nil, append(goClient, servertest.Bearer(q.Get("token"))...)...), 200, &who)
		})
	}
}
