package provider_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/sso/ssotest"
)

const redirectURI = "http://127.0.0.1:9/callback" // never served: the browser stops there

// registered is a client registered through the API.
type registered struct {
	ID, Secret string
}

func registerClient(tb testing.TB, e *servertest.Env, token string, public bool, scopes ...string) registered {
	tb.Helper()
	r := e.Do(tb, "POST", "/api/v1/auth/oauth2/clients", map[string]any{
		"name": "Scanner", "public": public, "redirect_uris": []string{redirectURI}, "scopes": scopes,
	}, servertest.Bearer(token)...)
	if r.Status != http.StatusCreated {
		tb.Fatalf("registering client: %d %s", r.Status, r.Raw)
	}
	sec, _ := r.JSON["client_secret"].(string)
	return registered{ID: r.JSON["client_id"].(string), Secret: sec}
}

func random(tb testing.TB) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize runs a browser through authorize → sign in → consent and
// returns the redirect to the client (code or error).
func authorize(tb testing.TB, e *servertest.Env, authURL, username, password string) *url.URL {
	tb.Helper()
	b := ssotest.NewBrowser(tb, e.URL, redirectURI)
	return ssotest.RedirectTo(tb, ssotest.Authorize(tb, b, authURL, username, password))
}

func TestCodeFlowWithOAuth2AndGoOIDC(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		ctx := context.Background()
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "A")
		admin, _ := e.Login(t, "alice", "password1")
		c := registerClient(t, e, admin, false, "openid", "profile", "email", "offline_access", "devices_read", "users_manage")

		op, err := oidc.NewProvider(ctx, e.URL) // discovery
		if err != nil {
			t.Fatal(err)
		}
		conf := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: op.Endpoint(), RedirectURL: redirectURI,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "users_manage"}}
		state, nonce, verifier := random(t), random(t), oauth2.GenerateVerifier()
		back := authorize(t, e, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), "alice", "password1")
		if back.Query().Get("state") != state || back.Query().Get("code") == "" {
			t.Fatalf("redirect = %s, want code and state %s", back, state)
		}
		code := back.Query().Get("code")
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}

		raw, _ := tok.Extra("id_token").(string)
		idt, err := op.Verifier(&oidc.Config{ClientID: c.ID}).Verify(ctx, raw) // signature via JWKS
		if err != nil {
			t.Fatalf("id_token: %v", err)
		}
		if idt.Nonce != nonce {
			t.Errorf("id_token nonce = %q, want %q", idt.Nonce, nonce)
		}
		var claims struct {
			Email    string `json:"email"`
			Username string `json:"preferred_username"`
		}
		info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if err := info.Claims(&claims); err != nil || claims.Email != "alice@example.com" || claims.Username != "alice" {
			t.Errorf("userinfo = %+v (%v)", claims, err)
		}

		// The token works on the API with exactly its scopes: users_manage
		// grants users:read, nothing grants psks:read.
		for _, tc := range []struct {
			name, path string
			want       int
		}{
			{"granted scope", "/api/v1/users", http.StatusOK},
			{"scope not granted", "/api/v1/psks", http.StatusForbidden},
		} {
			if r := e.Do(t, "GET", tc.path, nil, servertest.Bearer(tok.AccessToken)...); r.Status != tc.want {
				t.Errorf("%s: GET %s = %d, want %d (%s)", tc.name, tc.path, r.Status, tc.want, r.Raw)
			}
		}

		// The code is single-use.
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
			t.Errorf("replayed code: %v, want invalid_grant", err)
		}

		// Introspection (RFC 7662) for a resource server.
		in := introspect(t, e, c, tok.AccessToken)
		if in["active"] != true || !strings.Contains(in["scope"].(string), "users_manage") || in["client_id"] != c.ID {
			t.Errorf("introspection = %v", in)
		}

		// Refresh rotates; the rotated token replayed revokes the grant.
		next := refresh(t, e, c, tok.RefreshToken)
		if next["refresh_token"] == nil || next["refresh_token"] == tok.RefreshToken {
			t.Fatalf("refresh did not rotate: %v", next)
		}
		// Used once, its verification is remembered; the revocation below
		// must still end it.
		if r := e.Do(t, "GET", "/api/v1/users", nil, servertest.Bearer(next["access_token"].(string))...); r.Status != http.StatusOK {
			t.Fatalf("rotated access token: %d %s", r.Status, r.Raw)
		}
		if r := refreshRaw(t, e, c, tok.RefreshToken); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_grant" {
			t.Errorf("reused refresh token: %d %s, want 400 invalid_grant", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/users", nil, servertest.Bearer(next["access_token"].(string))...); r.Status != http.StatusUnauthorized {
			t.Errorf("access token of a revoked grant: %d, want 401", r.Status)
		}
		if in := introspect(t, e, c, next["access_token"].(string)); in["active"] != false {
			t.Errorf("introspection after revocation = %v, want inactive", in)
		}
	})
}

func isOAuthError(err error, code string) bool {
	re, ok := err.(*oauth2.RetrieveError)
	return ok && re.ErrorCode == code
}

func form(tb testing.TB, e *servertest.Env, c registered, path string, v url.Values) *servertest.Response {
	tb.Helper()
	req, err := http.NewRequest("POST", e.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	out := &servertest.Response{Status: res.StatusCode, Header: res.Header}
	if err := json.NewDecoder(res.Body).Decode(&out.JSON); err != nil && res.StatusCode != http.StatusOK {
		tb.Logf("%s: %d (no JSON body)", path, res.StatusCode)
	}
	b, _ := json.Marshal(out.JSON)
	out.Raw = b
	return out
}

func introspect(tb testing.TB, e *servertest.Env, c registered, token string) map[string]any {
	tb.Helper()
	r := form(tb, e, c, "/api/v1/auth/oauth2/introspect", url.Values{"token": {token}})
	if r.Status != http.StatusOK {
		tb.Fatalf("introspect: %d %s", r.Status, r.Raw)
	}
	return r.JSON
}

func refreshRaw(tb testing.TB, e *servertest.Env, c registered, rt string) *servertest.Response {
	tb.Helper()
	return form(tb, e, c, "/api/v1/auth/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func refresh(tb testing.TB, e *servertest.Env, c registered, rt string) map[string]any {
	tb.Helper()
	r := refreshRaw(tb, e, c, rt)
	if r.Status != http.StatusOK {
		tb.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	return r.JSON
}

// TestProtocolRefusals: the authorization server's RFC 6749 refusals.
func TestProtocolRefusals(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "A")
	admin, _ := e.Login(t, "alice", "password1")
	conf := registerClient(t, e, admin, false, "openid", "devices_read")
	public := registerClient(t, e, admin, true, "openid", "devices_read")
	authz := func(c registered, v url.Values) string {
		q := url.Values{"client_id": {c.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid devices_read"}, "state": {"s"}}
		for k, vs := range v {
			q[k] = vs
		}
		return e.URL + "/api/v1/auth/oauth2/authorize?" + q.Encode()
	}

	t.Run("unregistered redirect_uri is not followed", func(t *testing.T) {
		b := ssotest.NewBrowser(t, e.URL, "https://evil.example")
		p := b.Get(t, authz(conf, url.Values{"redirect_uri": {"https://evil.example/cb"}}))
		if p.Status < 400 || strings.HasPrefix(p.URL.String(), "https://evil.example") {
			t.Errorf("authorize = %d at %s, want an error page here", p.Status, p.URL)
		}
	})
	t.Run("public client without PKCE", func(t *testing.T) {
		b := ssotest.NewBrowser(t, e.URL, redirectURI)
		back := ssotest.RedirectTo(t, b.Get(t, authz(public, nil)))
		if back.Query().Get("error") != "invalid_request" || back.Query().Get("state") != "s" {
			t.Errorf("redirect = %s, want error=invalid_request with the state", back)
		}
	})

	v := oauth2.GenerateVerifier()
	code := authorize(t, e, authz(conf, url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(v)},
		"code_challenge_method": {"S256"}}), "alice", "password1").Query().Get("code")
	exchange := func(c registered, extra url.Values) *servertest.Response {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
		for k, vs := range extra {
			f[k] = vs
		}
		return form(t, e, c, "/api/v1/auth/oauth2/token", f)
	}
	for _, tc := range []struct {
		name   string
		c      registered
		extra  url.Values
		status int
		err    string
	}{
		{"wrong client secret", registered{ID: conf.ID, Secret: "nks_wrong"}, nil, http.StatusUnauthorized, "invalid_client"},
		{"other redirect_uri", conf, url.Values{"redirect_uri": {"http://127.0.0.1:9/other"}}, http.StatusBadRequest, "invalid_grant"},
		{"wrong PKCE verifier", conf, url.Values{"code_verifier": {oauth2.GenerateVerifier()}}, http.StatusBadRequest, "invalid_grant"},
		{"unknown grant type", conf, url.Values{"grant_type": {"password"}}, http.StatusBadRequest, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(tc.c, tc.extra)
			if r.Status != tc.status || r.JSON["error"] != tc.err {
				t.Errorf("token = %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.err)
			}
		})
	}
	// None of the refused attempts used the code up: the right one works,
	// once.
	if r := exchange(conf, nil); r.Status != http.StatusOK || r.JSON["access_token"] == nil {
		t.Errorf("the right exchange after refusals: %d %s", r.Status, r.Raw)
	}
	if r := exchange(conf, nil); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_grant" {
		t.Errorf("the code again: %d %s, want invalid_grant", r.Status, r.Raw)
	}
}
