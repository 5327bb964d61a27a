package web

import (
	"html/template"
	"net/http"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/identity"
)

// home is the overview: who is signed in and where to go.
func (h *Handlers) home(w http.ResponseWriter, r *http.Request) {
	me, err := h.Identity.Me(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "home", &view{Title: "Overview", Section: "home", Flash: flash(r), Data: me})
}

// mfaEnrolment is the MFA page's data: the user, and during enrolment the
// secret and its QR code.
type mfaEnrolment struct {
	User   *identity.User
	Secret string
	URI    string // otpauth://
	QR     template.URL
}

func (h *Handlers) mfaPage(w http.ResponseWriter, r *http.Request) {
	me, err := h.Identity.Me(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "mfa", &view{Title: "Two-factor sign-in", Section: "account", Flash: flash(r), Data: mfaEnrolment{User: me}})
}

// mfaSetup starts enrolment: a new secret, shown as a QR code of its
// otpauth:// URI and as text, to be confirmed with a code.
func (h *Handlers) mfaSetup(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	enr, err := h.Identity.SetupMFA(r.Context(), p, api.Source(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showEnrolment(w, r, http.StatusOK, enr.Secret, enr.URL, "")
}

func (h *Handlers) showEnrolment(w http.ResponseWriter, r *http.Request, status int, secret, uri, msg string) {
	me, err := h.Identity.Me(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	qr, err := qrImage(uri)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, "mfa", &view{Title: "Two-factor sign-in", Section: "account", Error: msg,
		Data: mfaEnrolment{User: me, Secret: secret, URI: uri, QR: qr}})
}

func (h *Handlers) mfaEnable(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	err := h.Identity.EnableMFA(r.Context(), p, api.Source(r), strings.TrimSpace(r.PostFormValue("code")))
	if err != nil {
		msg, ok := formError(err)
		if !ok {
			h.fail(w, r, err)
			return
		}
		// The pending secret stays; show it again with the message.
		secret := r.PostFormValue("secret")
		h.showEnrolment(w, r, http.StatusBadRequest, secret, r.PostFormValue("uri"), msg)
		return
	}
	redirect(w, r, "/ui/account/mfa", "Two-factor sign-in is on.")
}
