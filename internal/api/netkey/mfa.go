package netkey

import (
	"net/http"

	"netkeep/internal/api"
)

// mfaSetup starts TOTP enrolment; MFA is on only after mfaEnable confirms a code.
func (h *Handlers) mfaSetup(w http.ResponseWriter, r *http.Request) {
	enr, err := h.Identity.SetupMFA(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, mfaSetupJSON{Success: true, Secret: enr.Secret, OTPAuthURL: enr.URL, QRCodePNG: enr.QRPNG})
}

func (h *Handlers) mfaEnable(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TOTPCode string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.Identity.EnableMFA(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.TOTPCode); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, successJSON{Success: true})
}

func (h *Handlers) mfaDisable(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
		TOTPCode string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.Identity.DisableMFA(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.Password, in.TOTPCode); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, successJSON{Success: true})
}
