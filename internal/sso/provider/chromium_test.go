package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// TestBrowserRoundTrip drives headless Chromium through the authorization
// code flow: authorize → netkeep's sign-in page → consent page naming the
// client and its scopes → back to the client with a code the client can
// exchange.
func TestBrowserRoundTrip(t *testing.T) {
	t.Parallel()
	chromium := testpeer.Command(t, "chromium", "chromium")
	e := servertest.Start(t, config.SQLite)
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "A")
	admin, _ := e.Login(t, "alice", "password1")

	// The client application: its callback page records what arrived.
	arrived := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			select {
			case arrived <- r.URL.Query():
			default:
			}
		}
		_, _ = w.Write([]byte("<html><body>client app</body></html>"))
	}))
	t.Cleanup(app.Close)
	r := e.Do(t, "POST", "/api/v1/auth/oauth2/clients", map[string]any{"name": "Scanner",
		"redirect_uris": []string{app.URL + "/callback"}, "scopes": []string{"openid", "devices_read"}}, servertest.Bearer(admin)...)
	if r.Status != http.StatusCreated {
		t.Fatalf("registering client: %d %s", r.Status, r.Raw)
	}
	conf := oauth2.Config{ClientID: r.JSON["client_id"].(string), ClientSecret: r.JSON["client_secret"].(string),
		RedirectURL: app.URL + "/callback", Scopes: []string{"openid", "devices_read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/api/v1/auth/oauth2/authorize", TokenURL: e.URL + "/api/v1/auth/oauth2/token"}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st-123", oauth2.S256ChallengeOption(verifier))

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)

	err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(`input[name="username"]`),
		chromedp.SendKeys(`input[name="username"]`, "alice"),
		chromedp.SendKeys(`input[name="password"]`, "password1"),
		chromedp.Submit(`input[name="password"]`),
		chromedp.WaitVisible(chromedp.ID("allow")),
	)
	if err != nil {
		t.Fatalf("chromium, sign-in: %v", err)
	}
	consent, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatalf("chromium, consent page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("allow"))); err != nil {
		t.Fatalf("chromium, allow: %v", err)
	}
	if !strings.Contains(consent, "Scanner") || !strings.Contains(consent, "devices_read") || !strings.Contains(consent, "alice") {
		t.Errorf("consent page = %q, want the client, its scopes and the user", consent)
	}
	var q url.Values
	select {
	case q = <-arrived:
	case <-ctx.Done():
		t.Fatal("the browser never came back to the client")
	}
	if q.Get("state") != "st-123" || q.Get("code") == "" {
		t.Fatalf("client received %v, want a code and its state", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchanging the browser's code: %v", err)
	}
	if r := e.Do(t, "GET", "/api/v1/devices", nil, servertest.Bearer(tok.AccessToken)...); r.Status == http.StatusUnauthorized {
		t.Errorf("the token is refused: %d %s", r.Status, r.Raw)
	}
}
