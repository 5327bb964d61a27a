package netmaker

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/identity"
)

// userJSON is Netmaker's user object (username, isadmin, issuperadmin,
// networks, groups) with netkeep's identity fields; never the password hash.
func userJSON(u *identity.User) map[string]any {
	return map[string]any{
		"username":     u.Username,
		"isadmin":      u.Role == identity.SuperAdmin || u.Role == identity.GroupAdmin,
		"issuperadmin": u.Role == identity.SuperAdmin,
		"networks":     []string{},
		"groups":       []string{u.GroupName},
		"id":           u.ID,
		"email":        u.Email,
		"full_name":    u.FullName,
		"role":         u.Role,
		"group_id":     u.GroupID,
		"group_name":   u.GroupName,
		"is_active":    u.IsActive,
	}
}

func (h *Handlers) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.Identity.GetUserByName(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("username"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, userJSON(u))
}

// updateUser applies the fields present. Netmaker clients send the whole
// user back: an unchanged username is not a rename, and isadmin, networks
// and groups are ignored (roles change through "role").
func (h *Handlers) updateUser(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	var in struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
		Email    *string `json:"email"`
		FullName *string `json:"full_name"`
		Role     *string `json:"role"`
		IsActive *bool   `json:"is_active"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	u, err := h.Identity.GetUserByName(r.Context(), p, r.PathValue("username"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	patch := identity.UserPatch{Password: in.Password, Email: in.Email, FullName: in.FullName, IsActive: in.IsActive}
	if in.Username != nil && *in.Username != u.Username {
		patch.Username = in.Username
	}
	if in.Role != nil {
		role := identity.Role(*in.Role)
		patch.Role = &role
	}
	if u, err = h.Identity.UpdateUser(r.Context(), p, api.Source(r), u.ID, patch); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, userJSON(u))
}

// deleteUser answers with Netmaker's JSON string "<username> deleted.".
func (h *Handlers) deleteUser(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	u, err := h.Identity.GetUserByName(r.Context(), p, r.PathValue("username"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.Identity.DeleteUser(r.Context(), p, api.Source(r), u.ID); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, u.Username+" deleted.")
}
