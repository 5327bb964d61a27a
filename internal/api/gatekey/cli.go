package gatekey

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// The browser login of GateKey's command-line programs (gatekey login,
// gatekey-admin login): the program listens on a loopback port and opens
// GET /api/v1/auth/cli/login?callback=http://127.0.0.1:PORT/callback; the
// person signs in on the page served there (username, password and, with
// MFA on, a TOTP code), and the browser is sent back to the callback with
// the tokens in its query (token, refresh_token, expires_in, email, name),
// which the program stores. The login is netkeep's one login (lockout,
// MFA, geo-fencing, audit). Only loopback http callbacks are accepted, so
// tokens never leave the person's machine.

var errCallback = fault.New(fault.Invalid, "callback must be an http URL on the loopback interface (127.0.0.1, ::1 or localhost)").
	WithDetails(map[string]any{"field": "callback"})

// loopbackCallback validates the program's callback URL.
func loopbackCallback(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" {
		return nil, errCallback
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return u, nil
	}
	return nil, errCallback
}

var cliPage = template.Must(template.New("cli").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — netkeep</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00020}</style></head>
<body><h1>Sign in</h1><p>to finish signing in the command-line program on this computer.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
{{if .Session}}<form method="post" action="/api/v1/auth/cli/complete">
<input type="hidden" name="callback" value="{{.Callback}}"><input type="hidden" name="use_session" value="1">
<p>This browser is signed in as <strong>{{.Session}}</strong>.</p>
<button type="submit">Continue as {{.Session}}</button></form>
<p>Or sign in as someone else:</p>{{end}}
<form method="post" action="/api/v1/auth/cli/complete">
<input type="hidden" name="callback" value="{{.Callback}}">
<label for="username">Username or email</label><input id="username" name="username" autocomplete="username" value="{{.Username}}" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="totp_code">Authenticator code (if enabled)</label><input id="totp_code" name="totp_code" inputmode="numeric" autocomplete="one-time-code">
<button type="submit">Sign in</button></form></body></html>
`))

// cliPageData fills the page; Session, when not empty, is who the
// browser's session cookie signs in, offered without a second login.
type cliPageData struct {
	Callback, Username, Error, Session string
}

func writeCLIPage(w http.ResponseWriter, status int, d cliPageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = cliPage.Execute(w, d)
}

// cliLogin serves the sign-in page for a program's callback (GET
// /api/v1/auth/cli/login and /api/v1/auth/cli/complete). A browser already
// signed in (the session cookie) is offered to continue as that user; the
// page's button, not the link that opened it, hands the tokens over, so a
// link from elsewhere cannot sign a program in unseen.
func (h *Handlers) cliLogin(w http.ResponseWriter, r *http.Request) {
	if state := r.URL.Query().Get("state"); state != "" && r.URL.Path == cliCompletePath {
		h.cliCompleteState(w, r, state) // GateKey's web UI (cli_state.go)
		return
	}
	cb, err := loopbackCallback(r.URL.Query().Get("callback"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if h.WebLogin != "" && r.URL.Path != cliCompletePath {
		h.cliToWebLogin(w, r, cb)
		return
	}
	h.serveCLIPage(w, r, cb)
}

// cliCompletePath is where the sign-in page's forms go, and where GateKey's
// web UI finishes its flow.
const cliCompletePath = "/api/v1/auth/cli/complete"

// serveCLIPage serves netkeep's sign-in page for cb.
func (h *Handlers) serveCLIPage(w http.ResponseWriter, r *http.Request, cb *url.URL) {
	d := cliPageData{Callback: cb.String()}
	if p, err := h.webSession(w, r); err == nil {
		if u, err := h.Identity.Self(r.Context(), p); err == nil {
			d.Session = displayName(u)
		}
	}
	writeCLIPage(w, http.StatusOK, d)
}

var errNoWebSession = fault.New(fault.Unauthorized, "this browser is not signed in (or its session ended): sign in with your password")

// webSession authenticates the request's browser session cookie, renewing
// it when due.
func (h *Handlers) webSession(w http.ResponseWriter, r *http.Request) (*authz.Principal, error) {
	c, err := r.Cookie(api.SessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoWebSession
	}
	p, renewed, exp, err := h.Identity.AuthenticateWeb(r.Context(), c.Value)
	if err != nil {
		return nil, errNoWebSession
	}
	if renewed != "" {
		api.SetSessionCookie(w, r, renewed, exp)
	}
	return p, nil
}

var errCLICrossSite = fault.New(fault.Forbidden, "this sign-in must be confirmed on this server's own page").
	WithReason(api.ReasonCrossSite)

// cliFromSession opens the program's session for the browser session's
// user (no password asked; the login gate still applies). The form comes
// from netkeep's own page (same origin), as every cookie-authenticated
// change must.
func (h *Handlers) cliFromSession(w http.ResponseWriter, r *http.Request) (*identity.LoginResult, error) {
	if !api.SameOrigin(r) {
		return nil, errCLICrossSite
	}
	p, err := h.webSession(w, r)
	if err != nil {
		return nil, err
	}
	src := api.Source(r)
	src.Actor = p.Actor()
	return h.Identity.StartExternalSession(r.Context(), src, p.UserID, "cli:web-session")
}

// cliComplete signs in with the page's form (a password, or the browser's
// own session: use_session) and sends the browser back to the program's
// callback with the tokens (303). A refused login shows the page again
// with the reason (401, 403, 429).
func (h *Handlers) cliComplete(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "a form body is expected"))
		return
	}
	cb, err := loopbackCallback(r.PostForm.Get("callback"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	name := r.PostForm.Get("username")
	var res *identity.LoginResult
	if r.PostForm.Get("use_session") != "" {
		res, err = h.cliFromSession(w, r)
	} else {
		res, err = h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{
			Login: name, Password: r.PostForm.Get("password"), TOTPCode: r.PostForm.Get("totp_code")})
	}
	if err != nil {
		fe := fault.As(err)
		if fe == nil || fe.Code == fault.Internal {
			api.Error(w, r, err)
			return
		}
		status := http.StatusUnauthorized
		switch fe.Code {
		case fault.Forbidden:
			status = http.StatusForbidden
		case fault.RateLimited:
			status = http.StatusTooManyRequests
		case fault.Invalid:
			status = http.StatusBadRequest
		}
		writeCLIPage(w, status, cliPageData{Callback: cb.String(), Username: name, Error: fe.Message})
		return
	}
	redirectToProgram(w, r, cb, res)
}

// redirectToProgram sends the browser back to the program's callback with
// the session's tokens (303).
func redirectToProgram(w http.ResponseWriter, r *http.Request, cb *url.URL, res *identity.LoginResult) {
	t := res.Tokens
	q := cb.Query()
	q.Set("token", t.AccessToken)
	q.Set("refresh_token", t.RefreshToken)
	q.Set("expires_in", strconv.Itoa(int(time.Until(t.AccessExpires).Seconds())))
	q.Set("email", res.User.Email)
	q.Set("name", displayName(res.User))
	cb.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, cb.String(), http.StatusSeeOther)
}
