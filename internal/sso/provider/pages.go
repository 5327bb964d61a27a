package provider

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// The pages between /authorize and the code: op sends the browser to the
// client's LoginURL (the consent page) with the request id. A browser
// without a netkeep session is sent on to the sign-in page (password and,
// when the account has it, TOTP), which starts the session cookie and
// comes back. Allowing marks the request consented and returns to op's
// callback, which redirects to the client with the code; denying returns
// access_denied to the client.

// Paths of the pages (NetRecon's /api/v1/auth/oauth2/ prefix).
const (
	ConsentPath = "/api/v1/auth/oauth2/consent"
	LoginPath   = "/api/v1/auth/oauth2/login"
)

//go:embed pages/*.html
var pageFS embed.FS

var pages = template.Must(template.ParseFS(pageFS, "pages/*.html"))

type loginView struct {
	Action, ID, Client, Username, Error string
	NeedTOTP                            bool
}

type consentView struct {
	Action, ID, Client, Username string
	Scopes                       []string
}

func render(w http.ResponseWriter, name string, status int, v any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, v)
}

// pageError answers a page request that cannot go on (unknown or expired
// request) in the path's envelope.
func pageError(w http.ResponseWriter, r *http.Request, err error) { api.Error(w, r, err) }

// Consent shows the consent page to a signed-in user (GET), or sends the
// browser to sign in first.
func (p *Provider) Consent(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	req, c, err := p.request(r, id)
	if err != nil {
		pageError(w, r, err)
		return
	}
	pr := api.PrincipalFrom(r.Context())
	if pr == nil || pr.Kind != authz.KindUser {
		http.Redirect(w, r, LoginPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	render(w, "consent.html", http.StatusOK, consentView{Action: ConsentPath, ID: id, Client: c.Name,
		Username: pr.Username, Scopes: req.req.Scopes})
}

// Decide records the user's answer (POST) and returns to the client.
func (p *Provider) Decide(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	req, _, err := p.request(r, id)
	if err != nil {
		pageError(w, r, err)
		return
	}
	pr := api.PrincipalFrom(r.Context())
	if pr == nil || pr.Kind != authz.KindUser {
		http.Redirect(w, r, LoginPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	if r.PostFormValue("decision") != "allow" {
		op.AuthRequestError(w, r, req, oidc.ErrAccessDenied().WithDescription("the user denied the request"), p.op)
		return
	}
	if err := p.sso.Consent(r.Context(), pr, api.Source(r), id); err != nil {
		pageError(w, r, err)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(r.Context(), id), http.StatusSeeOther)
}

// LoginPage shows the sign-in form.
func (p *Provider) LoginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	_, c, err := p.request(r, id)
	if err != nil {
		pageError(w, r, err)
		return
	}
	render(w, "login.html", http.StatusOK, loginView{Action: LoginPath, ID: id, Client: c.Name})
}

// Login checks the credentials with netkeep's one login (lockout, MFA),
// starts the browser session and goes back to the consent page.
func (p *Provider) Login(w http.ResponseWriter, r *http.Request) {
	if !api.SameOrigin(r) {
		pageError(w, r, fault.New(fault.Forbidden, "cross-site sign-in refused").WithReason(api.ReasonCrossSite))
		return
	}
	id := r.PostFormValue("id")
	_, c, err := p.request(r, id)
	if err != nil {
		pageError(w, r, err)
		return
	}
	v := loginView{Action: LoginPath, ID: id, Client: c.Name, Username: r.PostFormValue("username")}
	res, err := p.users.Login(r.Context(), api.Source(r), identity.LoginRequest{Login: v.Username,
		Password: r.PostFormValue("password"), TOTPCode: r.PostFormValue("totp_code"), MFAPrompt: true})
	switch {
	case err != nil:
		v.Error, v.NeedTOTP = message(err, "sign-in failed"), r.PostFormValue("totp_code") != ""
		render(w, "login.html", http.StatusUnauthorized, v)
		return
	case res.MFARequired:
		v.NeedTOTP = true
		render(w, "login.html", http.StatusOK, v)
		return
	}
	tok, exp, err := p.users.WebToken(r.Context(), res.User.ID, res.Tokens.SessionID)
	if err != nil {
		pageError(w, r, err)
		return
	}
	api.SetSessionCookie(w, r, tok, exp)
	http.Redirect(w, r, ConsentPath+"?id="+url.QueryEscape(id), http.StatusSeeOther)
}

// message is err's user-safe message, or fallback for errors without one
// (their detail stays in the log).
func message(err error, fallback string) string {
	if fe := fault.As(err); fe != nil && fe.Code != fault.Internal {
		return fe.Message
	}
	return fallback
}
