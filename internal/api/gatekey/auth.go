package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// localLogin is GateKey's username and password login (TOTP when the user
// has MFA on). The token is a bearer access token.
func (h *Handlers) localLogin(w http.ResponseWriter, r *http.Request) {
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
		api.Error(w, r, fault.New(fault.Unauthorized, "a TOTP code is required").WithReason("mfa_required").
			WithDetails(map[string]any{"requires_mfa": true, "mfa_type": "totp"}))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"token":      res.Tokens.AccessToken,
		"expires_at": timestamp(res.Tokens.AccessExpires),
		"user":       userJSON(res.User),
	}})
}

// session describes the caller. For a user session it includes when the
// access token expires; API keys and the master key have no such expiry.
func (h *Handlers) session(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	data := map[string]any{"authenticated": true}
	if p.Kind == authz.KindUser {
		u, err := h.Identity.GetUser(r.Context(), p, p.UserID)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		data["user"] = userJSON(u)
		var c identity.AccessClaims
		if err := h.Identity.Signer().Verify(api.BearerToken(r), identity.AudienceAPI, &c, false); err == nil {
			data["expires_at"] = timestamp(c.ExpiresAt.Time)
		}
	} else {
		data["user"] = map[string]any{
			"id": p.UserID, "username": p.Username, "role": p.Role,
			"is_admin": p.IsSuper() || isAdmin(p.Role), "group_id": p.GroupID,
		}
		data["credential"] = string(p.Kind)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
}
