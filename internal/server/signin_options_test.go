package server_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// A configured identity provider is offered on the dashboard's sign-in
// page (bringing the browser back where it was going) and in GateKey's
// provider list, each with the URL that starts its sign-in.
func TestSignInOptions(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "admin", "password1", identity.SuperAdmin, "default")
		if r := e.Do(t, "POST", "/api/v1/sso/providers", providerBody(7), servertest.Master()...); r.Status != http.StatusCreated {
			t.Fatalf("provider: %d %s", r.Status, r.Raw)
		}
		r := e.Do(t, "GET", "/ui/login?next=/ui/psks", nil)
		page := html.UnescapeString(string(r.Raw))
		if r.Status != http.StatusOK || !strings.Contains(page, "Corp") ||
			!strings.Contains(page, "/api/v1/auth/oidc/login?provider=idp-7&redirect=%2Fui%2Fpsks") {
			t.Fatalf("sign-in page %d lacks the provider:\n%s", r.Status, page)
		}
		r = e.Do(t, "GET", "/api/v1/auth/providers", nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Raw), `"login_url":"/api/v1/auth/oidc/login?provider=idp-7"`) ||
			!strings.Contains(string(r.Raw), `"type":"local"`) {
			t.Fatalf("providers: %d %s", r.Status, r.Raw)
		}
	})
}
