package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/device"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

func (h *Handlers) setupStatus(w http.ResponseWriter, r *http.Request) {
	has, err := h.Identity.SetupStatus(r.Context())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, setupStatusJSON{SetupRequired: !has, HasUsers: has})
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
	api.WriteJSON(w, http.StatusCreated, setupJSON{Message: "Setup completed successfully. Please log in.", Username: u.Username})
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
	api.WriteJSON(w, http.StatusOK, session(res.User, res.Tokens))
}

// refresh rotates a refresh token given in the body (NetRecon), or renews a
// valid or recently expired bearer access token (Nekzus), a user's or a
// paired device's.
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
		api.WriteJSON(w, http.StatusOK, session(u, toks))
		return
	}
	bearer := api.BearerToken(r)
	if bearer == "" {
		api.Error(w, r, fault.New(fault.Unauthorized, "a refresh_token in the body or a bearer token is required"))
		return
	}
	if h.Devices != nil && device.IsToken(bearer) {
		tok, err := h.Devices.Refresh(r.Context(), bearer)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, deviceToken(tok))
		return
	}
	rn, err := h.Identity.RefreshAccess(r.Context(), bearer)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, renewalJSON{
		AccessToken: rn.AccessToken,
		ExpiresIn:   int(time.Until(rn.Expires).Round(time.Second) / time.Second),
		Scopes:      authz.RoleGrants(authz.Role(rn.Role)).List(),
		DeviceID:    rn.SessionID,
	})
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) {
	u, err := h.Identity.Me(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, meJSON{User: user(u)})
}

// logout revokes the caller's session on the server: its access and refresh
// tokens stop working.
func (h *Handlers) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.Identity.Logout(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r)); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, messageJSON{Message: "Logged out successfully"})
}
