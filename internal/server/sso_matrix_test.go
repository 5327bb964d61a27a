package server_test

import (
	"fmt"
	"testing"

	"netkeep/internal/server/servertest"
)

// Single sign-on's authenticated routes in the authorization matrix: OAuth2
// clients are their group's (GROUP_ADMIN and up; B's admin gets 404);
// identity providers are server-wide, managed by super principals only.
func init() {
	newClient := func(t *testing.T, w *world) (string, any) {
		t.Helper()
		r := w.e.Do(t, "POST", "/api/v1/auth/oauth2/clients", clientBody(), servertest.Bearer(w.adminA)...)
		if r.Status != 201 {
			t.Fatalf("registering client: %d %s", r.Status, r.Raw)
		}
		return "/api/v1/auth/oauth2/clients/" + r.JSON["client_id"].(string), nil
	}
	newProvider := func(t *testing.T, w *world) (string, any) {
		t.Helper()
		w.n++
		body := providerBody(w.n)
		if r := w.e.Do(t, "POST", "/api/v1/sso/providers", body, servertest.Master()...); r.Status != 201 {
			t.Fatalf("creating provider: %d %s", r.Status, r.Raw)
		}
		return "/api/v1/sso/providers/" + body["name"].(string), body
	}
	for pattern, c := range map[string]matrixCase{
		"GET /api/v1/auth/oauth2/clients": {deny: "user", ok: fixed("/api/v1/auth/oauth2/clients")},
		"POST /api/v1/auth/oauth2/clients": {deny: "user", ok: func(*testing.T, *world) (string, any) {
			return "/api/v1/auth/oauth2/clients", clientBody()
		}},
		"GET /api/v1/auth/oauth2/clients/{client_id}":    {deny: "user", cross: true, ok: newClient},
		"DELETE /api/v1/auth/oauth2/clients/{client_id}": {deny: "user", cross: true, ok: newClient},
		"GET /api/v1/sso/providers":                      {deny: "user", actor: "master", ok: fixed("/api/v1/sso/providers")},
		"POST /api/v1/sso/providers": {deny: "user", actor: "master", ok: func(_ *testing.T, w *world) (string, any) {
			w.n++
			return "/api/v1/sso/providers", providerBody(w.n)
		}},
		"GET /api/v1/sso/providers/{name}":    {deny: "user", actor: "master", ok: newProvider},
		"PUT /api/v1/sso/providers/{name}":    {deny: "user", actor: "master", ok: newProvider},
		"DELETE /api/v1/sso/providers/{name}": {deny: "user", actor: "master", ok: newProvider},
	} {
		matrix[pattern] = c
	}
}

func clientBody() map[string]any {
	return map[string]any{"name": "m", "redirect_uris": []string{"https://app.example/cb"}, "scopes": []string{"openid", "devices_read"}}
}

func providerBody(n int) map[string]any {
	return map[string]any{"name": fmt.Sprintf("idp-%d", n), "type": "oidc", "display_name": "Corp",
		"settings": map[string]any{"issuer": "https://idp.example", "client_id": "netkeep"}, "client_secret": "s3cret"}
}
