package netkey

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// login opens a session: the access token in the body, the refresh token in
// the cookie. With MFA on and no code it answers 200 requires_mfa, as the
// seed documents, and opens nothing.
func (h *Handlers) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username   string `json:"username"`
		Password   string `json:"password"`
		RememberMe bool   `json:"remember_me"`
		TOTPCode   string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	res, err := h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{
		Login: in.Username, Password: in.Password, TOTPCode: in.TOTPCode, Remember: in.RememberMe, MFAPrompt: true,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if res.MFARequired {
		api.WriteJSON(w, http.StatusOK, mfaRequiredJSON{RequiresMFA: true, MFAType: "totp"})
		return
	}
	setRefreshCookie(w, res.Tokens.RefreshToken, res.Tokens.RefreshExpires, time.Now())
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, loginJSON{Success: true, Token: res.Tokens.AccessToken,
		ExpiresIn: expiresIn(res.Tokens), User: sessionUser(res.User)})
}

// refresh rotates the cookie's refresh token. A rejected token also clears
// the cookie, so the browser stops presenting it.
func (h *Handlers) refresh(w http.ResponseWriter, r *http.Request) {
	_, toks, err := h.Identity.Refresh(r.Context(), api.Source(r), refreshToken(r))
	if err != nil {
		if fault.Is(err, fault.Unauthorized) {
			clearRefreshCookie(w)
		}
		api.Error(w, r, err)
		return
	}
	setRefreshCookie(w, toks.RefreshToken, toks.RefreshExpires, time.Now())
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, refreshJSON{Token: toks.AccessToken, ExpiresIn: expiresIn(toks)})
}

// logout revokes the bearer's session: its access token and every refresh
// token of its family stop working.
func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.Identity.Logout(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r)); err != nil {
		api.Error(w, r, err)
		return
	}
	clearRefreshCookie(w)
	api.WriteJSON(w, http.StatusOK, successJSON{Success: true})
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) {
	u, err := h.Identity.Me(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, profile(u))
}
