package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// SessionCookie is the browser session cookie of every web login (the
// dashboard, GateKey's web UI, single sign-on callbacks). Its value is a
// web session token (identity.AudienceWeb), never an access token.
const SessionCookie = "netkeep_session"

// ReasonCrossSite is the reason of a cookie-authenticated change refused
// because it did not come from netkeep's own pages.
const ReasonCrossSite fault.Reason = "cross_site_request"

// WebVerifier authenticates browser session tokens. renewed, when not
// empty, is a fresh token for the same session to set on the response.
type WebVerifier interface {
	AuthenticateWeb(ctx context.Context, token string) (p *authz.Principal, renewed string, renewedExpires time.Time, err error)
}

// SetSessionCookie hands the browser a session token valid until expires:
// HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
// subrequests; top-level navigations such as an identity provider's
// redirect back still carry it), Secure when the request came over TLS.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge:   max(1, int(time.Until(expires)/time.Second)),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to drop the session cookie.
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

var errCrossSite = fault.New(fault.Forbidden, "cross-site request refused: changes through a browser session must come from this server's own pages").WithReason(ReasonCrossSite)

// authenticateCookie authenticates r's session cookie, if any; with none it
// returns errNoCredential. A cookie is sent by the browser whoever made the
// page that asks, so a change (any method but GET, HEAD, OPTIONS) is
// accepted only from the same origin.
func (a *Authenticator) authenticateCookie(w http.ResponseWriter, r *http.Request) (*authz.Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || a.Web == nil {
		return nil, errNoCredential
	}
	if !safeMethod(r.Method) && !SameOrigin(r) {
		return nil, errCrossSite
	}
	p, renewed, exp, err := a.Web.AuthenticateWeb(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	if renewed != "" {
		SetSessionCookie(w, r, renewed, exp)
	}
	return p, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// SameOrigin reports whether r was sent by a page of r's own host: its
// Origin header names that host, or (browsers that send no Origin) its
// Sec-Fetch-Site says same-origin, or its Referer names that host. A request
// carrying none of them is refused: every browser that honours SameSite
// sends at least one on a change.
func SameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return hostOf(o) == r.Host
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return hostOf(ref) == r.Host
	}
	return false
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
