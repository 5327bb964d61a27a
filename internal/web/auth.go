package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// The sign-in pages: first-run setup, the password step, the TOTP step and
// sign-out. A successful sign-in opens an identity session (as the API's
// login does) and hands the browser its session cookie.

func (h *Handlers) setupPage(w http.ResponseWriter, r *http.Request) {
	has, err := h.Identity.SetupStatus(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if has {
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "setup", &view{Title: "Set up netkeep"})
}

// setup creates the first administrator (the rules of POST
// /api/v1/auth/setup: only while no user exists) and signs it in.
func (h *Handlers) setup(w http.ResponseWriter, r *http.Request) {
	username, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		h.render(w, r, http.StatusBadRequest, "setup", &view{Title: "Set up netkeep", Error: "The two passwords differ.", Data: username})
		return
	}
	if _, err := h.Identity.Setup(r.Context(), api.Source(r), username, password); err != nil {
		if msg, ok := formError(err); ok {
			h.render(w, r, api.StatusOf(fault.CodeOf(err)), "setup", &view{Title: "Set up netkeep", Error: msg, Data: username})
			return
		}
		h.fail(w, r, err)
		return
	}
	h.signIn(w, r, identity.LoginRequest{Login: username, Password: password}, "/ui/account/mfa")
}

// loginForm is the sign-in page's data.
type loginForm struct {
	Username  string
	Next      string
	TOTP      bool // the second step: ask for the code
	Providers []SignInOption
}

// SignInOption is a "sign in with ..." link of the sign-in page.
type SignInOption struct {
	Name string // shown: "Sign in with <Name>"
	URL  string // where the link goes; it brings the browser back signed in
}

// SignInOptions lists the other ways to sign in (single sign-on
// providers) for a sign-in that should end at next.
type SignInOptions interface {
	SignInOptions(ctx context.Context, next string) []SignInOption
}

func (h *Handlers) options(r *http.Request, next string) []SignInOption {
	if h.SignIn == nil {
		return nil
	}
	return h.SignIn.SignInOptions(r.Context(), next)
}

func (h *Handlers) loginPage(w http.ResponseWriter, r *http.Request) {
	has, err := h.Identity.SetupStatus(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !has {
		http.Redirect(w, r, "/ui/setup", http.StatusSeeOther)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	v := &view{Title: "Sign in", Flash: flash(r), Data: loginForm{Next: next, Providers: h.options(r, next)}}
	if r.URL.Query().Get("expired") == "1" {
		v.Error = "Your session has ended. Please sign in again."
	}
	h.render(w, r, http.StatusOK, "login", v)
}

func (h *Handlers) login(w http.ResponseWriter, r *http.Request) {
	req := identity.LoginRequest{Login: strings.TrimSpace(r.PostFormValue("username")), Password: r.PostFormValue("password"),
		Remember: r.PostFormValue("remember") == "on", MFAPrompt: true}
	h.signIn(w, r, req, safeNext(r.PostFormValue("next")))
}

// pendingLogin is the password step of a sign-in whose account has MFA,
// kept sealed in a short-lived cookie (pendingCookie) until the TOTP step:
// the password is never put in the page.
type pendingLogin struct {
	Login    string    `json:"l"`
	Password string    `json:"p"`
	Remember bool      `json:"r"`
	Next     string    `json:"n"`
	Expires  time.Time `json:"e"`
}

const (
	pendingCookie  = "netkeep_login"
	pendingContext = "web-pending-login"
	pendingTTL     = 5 * time.Minute
)

func (h *Handlers) loginTOTP(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(pendingCookie)
	var pl pendingLogin
	if err == nil {
		err = h.openPending(c.Value, &pl)
	}
	if err != nil || time.Now().After(pl.Expires) {
		redirect(w, r, "/ui/login", "The sign-in took too long. Please enter your password again.")
		return
	}
	req := identity.LoginRequest{Login: pl.Login, Password: pl.Password, Remember: pl.Remember,
		TOTPCode: strings.TrimSpace(r.PostFormValue("code"))}
	h.signIn(w, r, req, pl.Next)
}

// signIn runs the login and, on success, sets the session cookie and goes
// to next. A user with MFA and no code gets the TOTP step; a wrong
// password or code comes back to the form with the domain's message.
func (h *Handlers) signIn(w http.ResponseWriter, r *http.Request, req identity.LoginRequest, next string) {
	res, err := h.Identity.Login(r.Context(), api.Source(r), req)
	if err != nil {
		msg, ok := formError(err)
		if !ok {
			h.fail(w, r, err)
			return
		}
		form := loginForm{Username: req.Login, Next: next, TOTP: req.TOTPCode != "", Providers: h.options(r, next)}
		h.render(w, r, api.StatusOf(fault.CodeOf(err)), "login", &view{Title: "Sign in", Error: msg, Data: form})
		return
	}
	if res.MFARequired {
		sealed, err := h.sealPending(pendingLogin{Login: req.Login, Password: req.Password, Remember: req.Remember,
			Next: next, Expires: time.Now().Add(pendingTTL)})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: sealed, Path: "/ui/login", MaxAge: int(pendingTTL / time.Second),
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		h.render(w, r, http.StatusOK, "login", &view{Title: "Sign in", Data: loginForm{Username: req.Login, Next: next, TOTP: true}})
		return
	}
	tok, exp, err := h.Identity.WebToken(r.Context(), res.User.ID, res.Tokens.SessionID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Path: "/ui/login", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil})
	api.SetSessionCookie(w, r, tok, exp)
	redirect(w, r, next, "")
}

func (h *Handlers) sealPending(pl pendingLogin) (string, error) {
	b, err := json.Marshal(pl)
	if err != nil {
		return "", err
	}
	sealed, err := h.Keys.Seal(b, pendingContext)
	clear(b)
	return base64.RawURLEncoding.EncodeToString(sealed), err
}

func (h *Handlers) openPending(v string, pl *pendingLogin) error {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return err
	}
	b, err := h.Keys.Open(raw, pendingContext)
	if err != nil {
		return err
	}
	defer clear(b)
	return json.Unmarshal(b, pl)
}

// logout ends the identity session (its cookie, access and refresh tokens
// everywhere) and drops the cookie.
func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.Identity.Logout(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	api.ClearSessionCookie(w, r)
	redirect(w, r, "/ui/login", "You have signed out.")
}
