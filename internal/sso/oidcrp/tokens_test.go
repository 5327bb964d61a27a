package oidcrp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"netkeep/internal/fault"
	"netkeep/internal/secret"
	"netkeep/internal/sso"
	"netkeep/internal/sso/oidcrp"
)

// forger is an OpenID provider at the edge of the test: discovery, JWKS
// and a token endpoint answering every code with an id_token whose claims
// the test case chose, signed with its key (or another).
type forger struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	claims func(nonce string) map[string]any
	signer *rsa.PrivateKey // nil: key
	nonce  string
}

func newForger(tb testing.TB) *forger {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	f := &forger{key: k}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize",
			"token_endpoint": f.srv.URL + "/token", "jwks_uri": f.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, _ *http.Request) {
		key := f.key
		if f.signer != nil {
			key = f.signer
		}
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		payload, _ := json.Marshal(f.claims(f.nonce))
		jws, err := sig.Sign(payload)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		tok, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": tok})
	})
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

type oneProvider struct{ p *sso.Provider }

func (o oneProvider) Provider(context.Context, string) (*sso.Provider, error) { return o.p, nil }

// TestIDTokenChecks: the relying party refuses id_tokens with a wrong
// nonce, audience or issuer, an expired one, and one signed by another key.
func TestIDTokenChecks(t *testing.T) {
	t.Parallel()
	f := newForger(t)
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, err := secret.Derive(root)
	if err != nil {
		t.Fatal(err)
	}
	rp := oidcrp.New(oneProvider{&sso.Provider{Name: "corp", Kind: sso.OIDC,
		Settings: sso.Settings{Issuer: f.srv.URL, ClientID: "netkeep", Scopes: []string{"email"}}}}, keys, f.srv.Client())
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	valid := func(nonce string) map[string]any {
		now := time.Now()
		return map[string]any{"iss": f.srv.URL, "sub": "u1", "aud": "netkeep", "nonce": nonce, "email": "u1@example.com",
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	with := func(k string, v any) func(string) map[string]any {
		return func(n string) map[string]any { c := valid(n); c[k] = v; return c }
	}
	for _, tc := range []struct {
		name   string
		claims func(string) map[string]any
		signer *rsa.PrivateKey
		ok     bool
	}{
		{"valid", valid, nil, true},
		{"wrong nonce", with("nonce", "replayed-nonce"), nil, false},
		{"no nonce", with("nonce", ""), nil, false},
		{"wrong audience", with("aud", "another-client"), nil, false},
		{"wrong issuer", with("iss", "https://evil.example"), nil, false},
		{"expired", with("exp", time.Now().Add(-time.Minute).Unix()), nil, false},
		{"signed by another key", valid, other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authURL, state, err := rp.Begin(context.Background(), "corp", "https://netkeep.example/cb", "/")
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(authURL)
			f.claims, f.signer, f.nonce = tc.claims, tc.signer, u.Query().Get("nonce")
			if u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("code_challenge") == "" {
				t.Errorf("authorization request without PKCE S256: %s", authURL)
			}
			_, a, _, err := rp.Finish(context.Background(), state, "https://netkeep.example/cb",
				oidcrp.Callback{State: u.Query().Get("state"), Code: "c"})
			switch {
			case tc.ok && (err != nil || a.Subject != "u1" || a.Claims["email"][0] != "u1@example.com"):
				t.Errorf("Finish = %+v, %v; want u1", a, err)
			case !tc.ok && fault.CodeOf(err) != fault.Unauthorized:
				t.Errorf("Finish err = %v, want unauthorized", err)
			}
		})
	}
}
