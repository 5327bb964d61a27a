package netmaker

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
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

// createAdmin creates a SUPER_ADMIN. On a server without users it is the
// first-run setup and needs no credential; afterwards only the master key or
// a SUPER_ADMIN (with users:write) may call it.
func (h *Handlers) createAdmin(w http.ResponseWriter, r *http.Request) {
	has, err := h.Identity.SetupStatus(r.Context())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	p := api.PrincipalFrom(r.Context())
	if has && p == nil {
		api.Error(w, r, fault.New(fault.Unauthorized, "an administrator exists; authentication required"))
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
	if !has {
		u, err := h.Identity.Setup(r.Context(), api.Source(r), in.Username, in.Password)
		if err == nil {
			api.WriteJSON(w, http.StatusOK, userJSON(u))
			return
		}
		if fe := fault.As(err); fe == nil || fe.Reason != "SETUP_COMPLETED" {
			api.Error(w, r, err)
			return
		}
		// Another caller completed setup first: this one needs a credential.
		if p == nil {
			api.Error(w, r, fault.New(fault.Unauthorized, "an administrator exists; authentication required"))
			return
		}
	}
	if err := authz.Allow(p, "users:write", authz.Any); err != nil {
		api.Error(w, r, err)
		return
	}
	if !p.IsSuper() {
		api.Error(w, r, fault.New(fault.Forbidden, "only a SUPER_ADMIN can create an admin"))
		return
	}
	u, err := h.Identity.CreateSuperAdmin(r.Context(), api.Source(r), in.Username, in.Password, "")
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, userJSON(u))
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
	for _, f := range []struct{ name, value string }{{"username", in.Username}, {"password", in.Password}} {
		if f.value == "" {
			api.Error(w, r, fault.New(fault.Invalid, f.name+" is required").WithDetails(map[string]any{"field": f.name}))
			return
		}
	}
	res, err := h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{Login: in.Username, Password: in.Password, TOTPCode: in.TOTPCode})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if res.MFARequired {
		api.Error(w, r, fault.New(fault.Unauthorized, "a TOTP code is required (totp_code)").WithReason("MFA_REQUIRED").
			WithDetails(map[string]any{"requires_mfa": true, "mfa_type": "totp"}))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"Code":    http.StatusOK,
		"Message": "W1R3: Device " + res.User.Username + " Authorized",
		"Response": map[string]any{
			"AuthToken": res.Tokens.AccessToken,
			"UserName":  res.User.Username,
		},
	})
}
