package netkey

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

func required(name string) error {
	return fault.New(fault.Invalid, name+" is required").WithDetails(map[string]any{"field": name})
}

// expiresIn is the access token's lifetime in seconds, as issued.
func expiresIn(t *identity.Tokens) int { return int(t.AccessTTL / time.Second) }

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
	switch {
	case in.Username == "":
		api.Error(w, r, required("username"))
		return
	case in.Password == "":
		api.Error(w, r, required("password"))
		return
	}
	res, err := h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{
		Login: in.Username, Password: in.Password, TOTPCode: in.TOTPCode, Remember: in.RememberMe,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if res.MFARequired {
		api.WriteJSON(w, http.StatusOK, map[string]any{"requires_mfa": true, "mfa_type": "totp"})
		return
	}
	setRefreshCookie(w, res.Tokens.RefreshToken, res.Tokens.RefreshExpires, time.Now())
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"success":    true,
		"token":      res.Tokens.AccessToken,
		"expires_in": expiresIn(res.Tokens),
		"user":       sessionUser(res.User),
	})
}

// refresh rotates the cookie's refresh token. A rejected token also clears
// the cookie, so the browser stops presenting it.
func (h *Handlers) refresh(w http.ResponseWriter, r *http.Request) {
	token := refreshToken(r)
	if token == "" {
		api.Error(w, r, fault.New(fault.Unauthorized, "refresh token cookie is missing").WithReason("INVALID_REFRESH_TOKEN"))
		return
	}
	_, toks, err := h.Identity.Refresh(r.Context(), api.Source(r), token)
	if err != nil {
		if fault.Is(err, fault.Unauthorized) {
			clearRefreshCookie(w)
		}
		api.Error(w, r, err)
		return
	}
	setRefreshCookie(w, toks.RefreshToken, toks.RefreshExpires, time.Now())
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{"token": toks.AccessToken, "expires_in": expiresIn(toks)})
}

// logout revokes the bearer's session: its access token and every refresh
// token of its family stop working.
func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	if p.Kind != authz.KindUser {
		api.Error(w, r, fault.New(fault.Invalid, "only a user session can log out"))
		return
	}
	if err := h.Identity.Logout(r.Context(), api.Source(r), p.UserID, p.SessionID); err != nil {
		api.Error(w, r, err)
		return
	}
	clearRefreshCookie(w)
	api.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	if p.UserID == 0 {
		api.Error(w, r, fault.New(fault.NotFound, "this credential has no user").WithReason("USER_NOT_FOUND"))
		return
	}
	u, err := h.Identity.GetUser(r.Context(), p, p.UserID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, profile(u))
}
