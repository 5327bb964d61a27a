package netmaker

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/identity"
)

// hasAdmin answers a bare JSON boolean: whether any active SUPER_ADMIN exists.
func (h *Handlers) hasAdmin(w http.ResponseWriter, r *http.Request) {
	has, err := h.Identity.HasSuperAdmin(r.Context())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, has)
}

// createAdmin creates a SUPER_ADMIN: on a server without users it is the
// first-run setup and needs no credential; afterwards identity requires a
// super principal (the master key or a SUPER_ADMIN).
func (h *Handlers) createAdmin(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	// Refused before the body is read: an anonymous caller learns nothing
	// once an administrator exists.
	if err := h.Identity.MayCreateSuperAdmin(r.Context(), p); err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	u, err := h.Identity.CreateSuperAdmin(r.Context(), p, api.Source(r), in.Username, in.Password, "")
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, user(u))
}

// authenticateJSON is Netmaker's success envelope of a user login.
type authenticateJSON struct {
	Code     int    `json:"Code"`
	Message  string `json:"Message"`
	Response struct {
		AuthToken string `json:"AuthToken"`
		UserName  string `json:"UserName"`
	} `json:"Response"`
}

// authenticate logs a user in and answers in Netmaker's success envelope.
func (h *Handlers) authenticate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		TOTPCode string `json:"totp_code"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	res, err := h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{Login: in.Username, Password: in.Password, TOTPCode: in.TOTPCode})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := authenticateJSON{Code: http.StatusOK, Message: "W1R3: Device " + res.User.Username + " Authorized"}
	out.Response.AuthToken, out.Response.UserName = res.Tokens.AccessToken, res.User.Username
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, out)
}
