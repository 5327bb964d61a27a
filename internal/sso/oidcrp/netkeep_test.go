package oidcrp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/sso/ssotest"
)

// configureOIDC registers netkeep rp as a client of netkeep op and op as
// rp's identity provider named name; settings are merged into the
// provider's.
func configureOIDC(tb testing.TB, rp, op *servertest.Env, opAdmin, name string, settings map[string]any) {
	tb.Helper()
	r := op.Do(tb, "POST", "/api/v1/auth/oauth2/clients", map[string]any{
		"name": "netkeep " + name, "redirect_uris": []string{rp.URL + "/api/v1/auth/oidc/callback"},
		"scopes": []string{"openid", "profile", "email"},
	}, servertest.Bearer(opAdmin)...)
	if r.Status != http.StatusCreated {
		tb.Fatalf("registering the client at the provider: %d %s", r.Status, r.Raw)
	}
	st := map[string]any{"issuer": op.URL, "client_id": r.JSON["client_id"]}
	for k, v := range settings {
		st[k] = v
	}
	r = rp.Do(tb, "POST", "/api/v1/sso/providers", map[string]any{"name": name, "type": "oidc", "display_name": "Corp",
		"settings": st, "client_secret": r.JSON["client_secret"]}, servertest.Master()...)
	if r.Status != http.StatusCreated {
		tb.Fatalf("configuring the identity provider: %d %s", r.Status, r.Raw)
	}
}

// signIn runs a browser from rp's OIDC login through op's sign-in and
// consent and back to rp's callback, and returns rp's last answer (the
// redirect into the web UI, not followed).
func signIn(tb testing.TB, rp, op *servertest.Env, provider, username, password string) ssotest.Page {
	tb.Helper()
	b := ssotest.NewBrowser(tb, op.URL, rp.URL+"/dashboard")
	return ssotest.Authorize(tb, b, rp.URL+"/api/v1/auth/oidc/login?provider="+provider+"&redirect=/dashboard", username, password)
}

func sessionCookie(tb testing.TB, p ssotest.Page) string {
	tb.Helper()
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "netkeep_session" && c.Value != "" {
			return c.Value
		}
	}
	tb.Fatalf("no session cookie from %s (%d): %v %s", p.URL, p.Status, p.Header, p.Body)
	return ""
}

// TestNetkeepSignsInThroughNetkeep: one netkeep is the OpenID provider of
// another. The user of the provider signs in to the relying party, is
// created there just in time, gets a browser session, has no local
// password, and loses the session when disabled there.
func TestNetkeepSignsInThroughNetkeep(t *testing.T) {
	t.Parallel()
	rp, op := servertest.Start(t, config.SQLite), servertest.Start(t, config.SQLite)
	op.CreateUser(t, "opadmin", "password1", identity.GroupAdmin, "corp")
	op.CreateUser(t, "bob", "password1", identity.RoleUser, "corp")
	opAdmin, _ := op.Login(t, "opadmin", "password1")
	configureOIDC(t, rp, op, opAdmin, "corp", map[string]any{"allowed_domains": []string{"example.com"}})

	p := signIn(t, rp, op, "corp", "bob", "password1")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard" {
		t.Fatalf("callback answered %d to %q: %s", p.Status, p.Header.Get("Location"), p.Body)
	}
	cookie := sessionCookie(t, p)
	r := rp.Do(t, "GET", "/api/v1/auth/session", nil, servertest.Cookie(cookie)...)
	if r.Status != http.StatusOK {
		t.Fatalf("session: %d %s", r.Status, r.Raw)
	}
	if got := r.JSON["data"].(map[string]any)["user"].(map[string]any)["username"]; got != "bob" {
		t.Errorf("signed in as %v, want bob", got)
	}

	// Just in time: bob exists on the relying party, without a password.
	if r := rp.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "bob", "password": "password1"}); r.Status != http.StatusUnauthorized {
		t.Errorf("local login of an SSO user: %d, want 401 (%s)", r.Status, r.Raw)
	}

	// A second sign-in finds the same user.
	second := sessionCookie(t, signIn(t, rp, op, "corp", "bob", "password1"))
	var bob []*identity.User
	all, err := rp.Server.Identity.ListUsers(context.Background(), master)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range all {
		if strings.EqualFold(u.Username, "bob") {
			bob = append(bob, u)
		}
	}
	if len(bob) != 1 || bob[0].PasswordHash != "" || bob[0].Email != "bob@example.com" || bob[0].Role != identity.RoleUser {
		t.Fatalf("users named bob after two sign-ins: %+v, want one USER with bob's email and no password", bob)
	}

	// An administrator may give bob a local password; then it works.
	pw := "local-pass1"
	if _, err := rp.Server.Identity.UpdateUser(context.Background(), master, servertest.Src, bob[0].ID, identity.UserPatch{Password: &pw}); err != nil {
		t.Fatalf("setting bob's password: %v", err)
	}
	if r := rp.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "bob", "password": pw}); r.Status != http.StatusOK {
		t.Errorf("local login with the password an admin set: %d %s", r.Status, r.Raw)
	}

	// Disabled on the relying party: its sessions end, whatever the
	// provider says.
	inactive := false
	if _, err := rp.Server.Identity.UpdateUser(context.Background(), master, servertest.Src, bob[0].ID, identity.UserPatch{IsActive: &inactive}); err != nil {
		t.Fatalf("disabling bob: %v", err)
	}
	for _, c := range []string{cookie, second} {
		if r := rp.Do(t, "GET", "/api/v1/auth/session", nil, servertest.Cookie(c)...); r.Status != http.StatusUnauthorized {
			t.Errorf("session of a disabled user: %d, want 401", r.Status)
		}
	}
	p = signIn(t, rp, op, "corp", "bob", "password1")
	if p.Status != http.StatusUnauthorized {
		t.Errorf("sign-in of a disabled user: %d, want 401 (%s)", p.Status, p.Body)
	}
}

var master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
