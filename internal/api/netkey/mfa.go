package netkey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// sessionUserID returns the caller's user id when it is a user session; MFA
// belongs to a person, so API keys and the master key cannot enrol.
func sessionUserID(r *http.Request) (int64, error) {
	p := api.PrincipalFrom(r.Context())
	if p.Kind != authz.KindUser {
		return 0, fault.New(fault.Forbidden, "MFA settings need a user session")
	}
	return p.UserID, nil
}

// mfaSetup starts TOTP enrolment; MFA is on only after mfaEnable confirms a code.
func (h *Handlers) mfaSetup(w http.ResponseWriter, r *http.Request) {
	uid, err := sessionUserID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	enr, err := h.Identity.SetupMFA(r.Context(), api.Source(r), uid)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"success": true, "secret": enr.Secret, "otpauth_url": enr.URL, "qr_code_png": enr.QRPNG,
	})
}

func (h *Handlers) mfaEnable(w http.ResponseWriter, r *http.Request) {
	uid, err := sessionUserID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		TOTPCode string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if in.TOTPCode == "" {
		api.Error(w, r, required("totp_code"))
		return
	}
	if err := h.Identity.EnableMFA(r.Context(), api.Source(r), uid, in.TOTPCode); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (h *Handlers) mfaDisable(w http.ResponseWriter, r *http.Request) {
	uid, err := sessionUserID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		Password string `json:"password"`
		TOTPCode string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	switch {
	case in.Password == "":
		api.Error(w, r, required("password"))
		return
	case in.TOTPCode == "":
		api.Error(w, r, required("totp_code"))
		return
	}
	if err := h.Identity.DisableMFA(r.Context(), api.Source(r), uid, in.Password, in.TOTPCode); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
}
