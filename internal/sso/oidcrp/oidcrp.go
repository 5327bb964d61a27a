// Package oidcrp is netkeep as an OpenID Connect relying party: it sends a
// browser to a configured identity provider (authorization code flow with
// state, nonce and PKCE S256) and, on the way back, exchanges the code and
// verifies the id_token (signature through the provider's JWKS, issuer,
// audience, expiry, nonce) with github.com/coreos/go-oidc and
// golang.org/x/oauth2, then hands the verified claims to the sso domain.
//
// The state of a login in flight lives in the browser, sealed under the
// server secret (so any replica can finish it): nothing is stored. It is a
// transport: it calls sso, never the store.
package oidcrp

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"netkeep/internal/fault"
	"netkeep/internal/secret"
	"netkeep/internal/sso"
)

// Reasons of refused callbacks.
const (
	ReasonStateMismatch fault.Reason = "sso_state_mismatch"
	ReasonInvalidToken  fault.Reason = "sso_invalid_token"
	ReasonProviderError fault.Reason = "sso_provider_error"
)

// LoginTTL is how long a browser has between login and callback.
const LoginTTL = 10 * time.Minute

const stateContext = "sso-oidc-login-state"

// Providers is what the relying party needs of the sso domain.
type Providers interface {
	Provider(ctx context.Context, name string) (*sso.Provider, error)
}

// RP is the relying party.
type RP struct {
	providers Providers
	keys      *secret.Keys
	client    *http.Client
	now       func() time.Time

	mu        sync.Mutex
	discovery map[string]discovered // by issuer
}

type discovered struct {
	p       *oidc.Provider
	fetched time.Time
}

// discoveryTTL bounds how long a provider's discovery document (and so a
// changed JWKS URL) is reused; go-oidc refreshes the keys themselves when
// it meets an unknown key id.
const discoveryTTL = 10 * time.Minute

// New returns a relying party; client is used for discovery, the token
// exchange, JWKS and userinfo (nil: http.DefaultClient).
func New(providers Providers, keys *secret.Keys, client *http.Client) *RP {
	if client == nil {
		client = http.DefaultClient
	}
	return &RP{providers: providers, keys: keys, client: client, now: time.Now, discovery: map[string]discovered{}}
}

// loginState is what the browser carries between login and callback.
type loginState struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Redirect string `json:"r"`
	Expires  int64  `json:"e"`
}

func (rp *RP) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	rp.mu.Lock()
	d, ok := rp.discovery[issuer]
	rp.mu.Unlock()
	if ok && rp.now().Sub(d.fetched) < discoveryTTL {
		return d.p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, rp.client), issuer)
	if err != nil {
		return nil, fault.New(fault.Unavailable, "the identity provider cannot be reached").WithReason(ReasonProviderError).Wrap(err)
	}
	rp.mu.Lock()
	rp.discovery[issuer] = discovered{p: p, fetched: rp.now()}
	rp.mu.Unlock()
	return p, nil
}

func (rp *RP) config(ctx context.Context, pr *sso.Provider, callback string) (*oauth2.Config, *oidc.Provider, error) {
	if pr.Kind != sso.OIDC {
		return nil, nil, fault.New(fault.Invalid, "this identity provider does not speak OpenID Connect")
	}
	op, err := rp.discover(ctx, pr.Settings.Issuer)
	if err != nil {
		return nil, nil, err
	}
	scopes := append([]string{oidc.ScopeOpenID}, pr.Settings.Scopes...)
	return &oauth2.Config{ClientID: pr.Settings.ClientID, ClientSecret: pr.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: callback, Scopes: scopes}, op, nil
}

// Begin starts a login at provider: it returns the URL to send the browser
// to and the sealed state to keep in the browser until the callback.
// redirect is where the browser goes once signed in (a local path).
func (rp *RP) Begin(ctx context.Context, provider, callback, redirect string) (authURL, state string, err error) {
	pr, err := rp.providers.Provider(ctx, provider)
	if err != nil {
		return "", "", err
	}
	conf, _, err := rp.config(ctx, pr, callback)
	if err != nil {
		return "", "", err
	}
	st := loginState{Provider: pr.Name, State: oauth2.GenerateVerifier(), Nonce: oauth2.GenerateVerifier(),
		Verifier: oauth2.GenerateVerifier(), Redirect: redirect, Expires: rp.now().Add(LoginTTL).Unix()}
	raw, err := json.Marshal(st)
	if err != nil {
		return "", "", err
	}
	sealed, err := rp.keys.Seal(raw, stateContext)
	if err != nil {
		return "", "", err
	}
	return conf.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)),
		base64.RawURLEncoding.EncodeToString(sealed), nil
}

var errState = fault.New(fault.Invalid, "the sign-in expired or did not start here; start again").WithReason(ReasonStateMismatch)

// Callback is what the provider sent back to the callback URL.
type Callback struct {
	State, Code         string
	Error, ErrorMessage string // the provider refused (error, error_description)
}

// Finish completes a login: the state must match the one Begin sealed,
// the code is exchanged with the PKCE verifier, the id_token verified
// (signature, issuer, audience, expiry) and its nonce checked. It returns
// the provider's name, the verified assertion (id_token claims, completed
// by userinfo for the same subject) and where to send the browser.
// Errors: invalid (state), unauthorized (provider refused, token invalid).
func (rp *RP) Finish(ctx context.Context, sealedState, callback string, cb Callback) (string, sso.Assertion, string, error) {
	var st loginState
	raw, err := base64.RawURLEncoding.DecodeString(sealedState)
	if err == nil {
		raw, err = rp.keys.Open(raw, stateContext)
	}
	if err != nil || json.Unmarshal(raw, &st) != nil || rp.now().Unix() > st.Expires {
		return "", sso.Assertion{}, "", errState
	}
	if subtle.ConstantTimeCompare([]byte(cb.State), []byte(st.State)) != 1 {
		return "", sso.Assertion{}, "", errState
	}
	if cb.Error != "" {
		return "", sso.Assertion{}, "", fault.Errorf(fault.Unauthorized, "the identity provider refused the sign-in: %s", cb.Error).WithReason(ReasonProviderError)
	}
	pr, err := rp.providers.Provider(ctx, st.Provider)
	if err != nil {
		return "", sso.Assertion{}, "", err
	}
	conf, op, err := rp.config(ctx, pr, callback)
	if err != nil {
		return "", sso.Assertion{}, "", err
	}
	ctx = oidc.ClientContext(ctx, rp.client)
	tok, err := conf.Exchange(ctx, cb.Code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return "", sso.Assertion{}, "", invalidToken("the code exchange failed", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return "", sso.Assertion{}, "", invalidToken("the identity provider sent no id_token", nil)
	}
	idt, err := op.VerifierContext(ctx, &oidc.Config{ClientID: pr.Settings.ClientID, Now: rp.now}).Verify(ctx, rawID)
	if err != nil {
		return "", sso.Assertion{}, "", invalidToken("the id_token is not valid", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return "", sso.Assertion{}, "", invalidToken("the id_token nonce does not match", nil)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return "", sso.Assertion{}, "", invalidToken("the id_token claims are malformed", err)
	}
	if op.UserInfoEndpoint() != "" {
		if info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil && info.Subject == idt.Subject {
			extra := map[string]any{}
			if info.Claims(&extra) == nil {
				for k, v := range extra {
					if _, ok := claims[k]; !ok {
						claims[k] = v
					}
				}
			}
		}
	}
	return pr.Name, sso.Assertion{Subject: idt.Subject, Claims: flatten(claims)}, st.Redirect, nil
}

func invalidToken(msg string, cause error) error {
	e := fault.New(fault.Unauthorized, msg).WithReason(ReasonInvalidToken)
	if cause != nil {
		return e.Wrap(cause)
	}
	return e
}

// flatten turns JSON claims into the domain's name → values form:
// strings, numbers and booleans as one value, arrays as many.
func flatten(claims map[string]any) map[string][]string {
	out := make(map[string][]string, len(claims))
	for k, v := range claims {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if s, ok := scalar(e); ok {
					out[k] = append(out[k], s)
				}
			}
		default:
			if s, ok := scalar(x); ok {
				out[k] = []string{s}
			}
		}
	}
	return out
}

func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	}
	return fmt.Sprint(v), false
}
