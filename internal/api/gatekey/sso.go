package gatekey

import (
	"context"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/sso"
	"netkeep/internal/sso/oidcrp"
)

// SSO is GateKey's web sign-in through a company identity provider
// ("session cookies obtained through OIDC/SAML login"): each login ends
// with a netkeep browser session (api.SessionCookie) and a redirect into
// the web UI.
type SSO struct {
	OIDC     OIDCFlow
	SAML     SAMLFlow
	Sign     SignIn
	Sessions WebSessions
	// PublicURL and TrustProxyHeaders decide the callback URL the
	// provider is told (api.BaseURL).
	PublicURL         string
	TrustProxyHeaders bool
}

// OIDCFlow is the relying party (sso/oidcrp).
type OIDCFlow interface {
	Begin(ctx context.Context, provider, callback, redirect string) (authURL, state string, err error)
	Finish(ctx context.Context, state, callback string, cb oidcrp.Callback) (string, sso.Assertion, string, error)
}

// SignIn turns a verified assertion into a session (sso.Service).
type SignIn interface {
	SignIn(ctx context.Context, src audit.Source, provider string, a sso.Assertion) (*identity.LoginResult, error)
}

// WebSessions issues browser session tokens (identity.Service).
type WebSessions interface {
	WebToken(ctx context.Context, userID int64, sessionID string) (string, time.Time, error)
}

// The OIDC callback path, and the cookie that carries a login in flight
// (sealed; only sent back to the sign-in paths).
const (
	oidcCallbackPath = "/api/v1/auth/oidc/callback"
	stateCookie      = "netkeep_sso_state"
	stateCookiePath  = "/api/v1/auth/"
)

// localRedirect keeps where to go after sign-in a path of this server (no
// open redirect); anything else is the web UI's root.
func localRedirect(to string) string {
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.HasPrefix(to, "/\\") {
		return "/"
	}
	return to
}

// oidcLogin sends the browser to the provider (?provider=NAME, optional
// when only one is configured; ?redirect=/path for afterwards).
func (s *SSO) oidcLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	callback := api.BaseURL(r, s.PublicURL, s.TrustProxyHeaders) + oidcCallbackPath
	authURL, state, err := s.OIDC.Begin(r.Context(), q.Get("provider"), callback, localRedirect(q.Get("redirect")))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: stateCookiePath, MaxAge: int(oidcrp.LoginTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

// oidcCallback finishes the login: state, code, id_token, then the user
// and the session cookie.
func (s *SSO) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var state string
	if c, err := r.Cookie(stateCookie); err == nil {
		state = c.Value
	}
	clearState(w, r)
	callback := api.BaseURL(r, s.PublicURL, s.TrustProxyHeaders) + oidcCallbackPath
	provider, a, redirect, err := s.OIDC.Finish(r.Context(), state, callback, oidcrp.Callback{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorMessage: q.Get("error_description")})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	s.startSession(w, r, provider, a, redirect)
}

func clearState(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: stateCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// startSession signs the asserted user in and sets the browser session.
func (s *SSO) startSession(w http.ResponseWriter, r *http.Request, provider string, a sso.Assertion, redirect string) {
	res, err := s.Sign.SignIn(r.Context(), api.Source(r), provider, a)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	tok, exp, err := s.Sessions.WebToken(r.Context(), res.User.ID, res.Tokens.SessionID)
	if err != nil {
		api.Error(w, r, fault.New(fault.Internal, "starting the session").Wrap(err))
		return
	}
	api.SetSessionCookie(w, r, tok, exp)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, localRedirect(redirect), http.StatusSeeOther)
}

// SAMLFlow is the SAML service provider (sso/samlsp).
type SAMLFlow interface {
	Metadata(ctx context.Context, provider, base string) ([]byte, error)
	Begin(ctx context.Context, provider, base, redirect string) (string, error)
	Finish(r *http.Request, provider, base string) (sso.Assertion, string, error)
}

// samlMetadata publishes the SP metadata an IdP administrator imports.
func (s *SSO) samlMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := s.SAML.Metadata(r.Context(), r.PathValue("provider"), api.BaseURL(r, s.PublicURL, s.TrustProxyHeaders))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// samlLogin sends the browser to the IdP (?redirect=/path for afterwards).
func (s *SSO) samlLogin(w http.ResponseWriter, r *http.Request) {
	u, err := s.SAML.Begin(r.Context(), r.PathValue("provider"), api.BaseURL(r, s.PublicURL, s.TrustProxyHeaders),
		localRedirect(r.URL.Query().Get("redirect")))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// samlACS is the assertion consumer service: the IdP's POST binding.
func (s *SSO) samlACS(w http.ResponseWriter, r *http.Request) {
	provider := r.PathValue("provider")
	a, redirect, err := s.SAML.Finish(r, provider, api.BaseURL(r, s.PublicURL, s.TrustProxyHeaders))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	s.startSession(w, r, provider, a, redirect)
}
