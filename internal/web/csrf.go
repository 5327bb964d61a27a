package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// Every form carries a token (field csrf) and every change must also come
// from the same origin (api.SameOrigin), on top of the session cookie's
// SameSite=Lax. The token is an HMAC of the session id, so it needs no
// storage and holds on every replica; before sign-in (setup, login) it is
// an HMAC of a random value in the preAuthCookie, a double-submit token
// that keeps other sites from signing a browser in to their account.

const (
	csrfField     = "csrf"
	preAuthCookie = "netkeep_form"
)

var errForm = fault.New(fault.Forbidden, "this form has expired or did not come from this server's pages; reload the page and try again").
	WithReason(api.ReasonCrossSite)

func (h *Handlers) mac(binding string) string {
	m := hmac.New(sha256.New, h.formKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// formToken is the token r's forms carry: bound to the session when signed
// in, else to the pre-sign-in cookie (set here when missing).
func (h *Handlers) formToken(w http.ResponseWriter, r *http.Request) string {
	if p := api.PrincipalFrom(r.Context()); p != nil && p.SessionID != "" {
		return h.mac("session:" + p.SessionID)
	}
	c, err := r.Cookie(preAuthCookie)
	if err != nil || len(c.Value) < 16 {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		c = &http.Cookie{Name: preAuthCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/ui/",
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
		http.SetCookie(w, c)
		r.AddCookie(c) // a second form on the same answer gets the same token
	}
	return h.mac("form:" + c.Value)
}

// checkForm reports whether a change request is one of our own forms:
// same origin, and its token matches the session (or the pre-sign-in
// cookie). Call it after the form is parsed.
func (h *Handlers) checkForm(r *http.Request) error {
	if !api.SameOrigin(r) {
		return errForm
	}
	got := r.PostFormValue(csrfField)
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	var want string
	if p := api.PrincipalFrom(r.Context()); p != nil && p.SessionID != "" {
		want = h.mac("session:" + p.SessionID)
	} else if c, err := r.Cookie(preAuthCookie); err == nil && c.Value != "" {
		want = h.mac("form:" + c.Value)
	}
	if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return errForm
	}
	return nil
}
