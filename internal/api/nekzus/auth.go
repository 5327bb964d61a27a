package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

func (h *Handlers) setupStatus(w http.ResponseWriter, r *http.Request) {
	has, err := h.Identity.SetupStatus(r.Context())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]bool{"setupRequired": !has, "hasUsers": has})
}

func (h *Handlers) setup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	u, err := h.Identity.Setup(r.Context(), api.Source(r), in.Username, in.Password)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, map[string]string{
		"message":  "Setup completed successfully. Please log in.",
		"username": u.Username,
	})
}

// userJSON is the union of the Nekzus and NetRecon user objects.
func userJSON(u *identity.User) map[string]any {
	return map[string]any{
		"id": u.ID, "username": u.Username, "email": u.Email, "full_name": u.FullName,
		"role": u.Role, "group_id": u.GroupID, "group_name": u.GroupName,
		"createdAt": u.CreatedAt, "lastLogin": u.LastLogin, "isActive": u.IsActive,
		"mfa_enabled": u.MFAEnabled,
	}
}

func tokenPair(t *identity.Tokens) map[string]any {
	return map[string]any{
		"access_token":  t.AccessToken,
		"refresh_token": t.RefreshToken,
		"token_type":    "bearer",
		"expires_in":    int(t.AccessTTL / time.Second),
		"token":         t.AccessToken,
	}
}

// login accepts "email" or "username" (NetRecon and Nekzus) and answers with
// the union of both products' responses.
func (h *Handlers) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
		TOTPCode string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	login := in.Username
	if login == "" {
		login = in.Email
	}
	res, err := h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{Login: login, Password: in.Password, TOTPCode: in.TOTPCode})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if res.MFARequired {
		api.Error(w, r, fault.New(fault.Unauthorized, "a TOTP code is required").WithReason("MFA_REQUIRED").
			WithDetails(map[string]any{"requires_mfa": true, "mfa_type": "totp"}))
		return
	}
	body := tokenPair(res.Tokens)
	body["user"] = userJSON(res.User)
	api.WriteJSON(w, http.StatusOK, body)
}

// refresh rotates a refresh token given in the body (NetRecon), or renews a
// valid or recently expired bearer access token (Nekzus).
func (h *Handlers) refresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if r.ContentLength != 0 {
		if err := api.Decode(r, &in); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	if in.RefreshToken != "" {
		u, toks, err := h.Identity.Refresh(r.Context(), api.Source(r), in.RefreshToken)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		body := tokenPair(toks)
		body["user"] = userJSON(u)
		api.WriteJSON(w, http.StatusOK, body)
		return
	}
	bearer := api.BearerToken(r)
	if bearer == "" {
		api.Error(w, r, fault.New(fault.Unauthorized, "a refresh_token in the body or a bearer token is required"))
		return
	}
	tok, exp, role, err := h.Identity.RefreshAccess(r.Context(), bearer)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"accessToken": tok,
		"expiresIn":   int(time.Until(exp).Round(time.Second) / time.Second),
		"scopes":      authz.RoleGrants(authz.Role(role)).List(),
	})
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	if p.UserID == 0 {
		api.Error(w, r, fault.New(fault.NotFound, "this credential has no user"))
		return
	}
	u, err := h.Identity.GetUser(r.Context(), p, p.UserID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"user": userJSON(u)})
}

// logout revokes the caller's session on the server: its access and refresh
// tokens stop working.
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
	api.WriteJSON(w, http.StatusOK, map[string]string{"message": "Logged out successfully"})
}
