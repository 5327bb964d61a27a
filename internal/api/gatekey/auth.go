package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

// loginJSON is the local login's data: a bearer access token, its expiry
// and the user.
type loginJSON struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
	User      user   `json:"user"`
}

// callerJSON describes the caller (GET /api/v1/auth/session). ExpiresAt is a user session's access
// token expiry; Credential names the kind of any other credential.
type callerJSON struct {
	Authenticated bool   `json:"authenticated"`
	User          user   `json:"user"`
	ExpiresAt     string `json:"expires_at,omitempty"`
	Credential    string `json:"credential,omitempty"`
}

// dataJSON is GateKey's {"data": ...} envelope of single objects.
type dataJSON[T any] struct {
	Data T `json:"data"`
}

// localLogin is GateKey's username and password login (TOTP when the user
// has MFA on). The token is a bearer access token; the browser session
// cookie (api.SessionCookie) is set too, for GateKey's web UI.
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
	res, err := h.Identity.Login(r.Context(), api.Source(r), identity.LoginRequest{Login: in.Username, Password: in.Password, TOTPCode: in.TOTPCode})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	// GateKey's web UI keeps the session in a cookie; the browser session
	// ends with the login session (logout, user disabled).
	web, expires, err := h.Identity.WebToken(r.Context(), res.User.ID, res.Tokens.SessionID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.SetSessionCookie(w, r, web, expires)
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, dataJSON[loginJSON]{Data: loginJSON{
		Token: res.Tokens.AccessToken, ExpiresAt: timestamp(res.Tokens.AccessExpires), User: userJSON(res.User),
	}})
}

// session describes the caller. For a user session it includes when the
// access token expires; API keys and the master key have no such expiry.
func (h *Handlers) session(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	out := callerJSON{Authenticated: true}
	if p.Kind == authz.KindUser {
		u, err := h.Identity.Me(r.Context(), p)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		out.User = userJSON(u)
		var c identity.AccessClaims
		if err := h.Identity.Signer().Verify(api.BearerToken(r), identity.AudienceAPI, &c, false); err == nil {
			out.ExpiresAt = timestamp(c.ExpiresAt.Time)
		}
	} else {
		out.User = user{ID: p.UserID, Username: p.Username, Role: string(p.Role),
			IsAdmin: p.IsSuper() || isAdmin(p.Role), GroupID: p.GroupID}
		out.Credential = string(p.Kind)
	}
	api.WriteJSON(w, http.StatusOK, dataJSON[callerJSON]{Data: out})
}
