package netmaker

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/identity"
)

// userJSON is Netmaker's user object (username, isadmin, issuperadmin,
// networks, groups) with netkeep's identity fields; never the password hash.
type userJSON struct {
	Username     string        `json:"username"`
	IsAdmin      bool          `json:"isadmin"`
	IsSuperAdmin bool          `json:"issuperadmin"`
	Networks     []string      `json:"networks"`
	Groups       []string      `json:"groups"`
	ID           int64         `json:"id"`
	Email        string        `json:"email"`
	FullName     string        `json:"full_name"`
	Role         identity.Role `json:"role"`
	GroupID      int64         `json:"group_id"`
	GroupName    string        `json:"group_name"`
	IsActive     bool          `json:"is_active"`
}

func user(u *identity.User) userJSON {
	return userJSON{
		Username: u.Username, IsAdmin: u.Role == identity.SuperAdmin || u.Role == identity.GroupAdmin,
		IsSuperAdmin: u.Role == identity.SuperAdmin, Networks: []string{}, Groups: []string{u.GroupName},
		ID: u.ID, Email: u.Email, FullName: u.FullName, Role: u.Role, GroupID: u.GroupID,
		GroupName: u.GroupName, IsActive: u.IsActive,
	}
}

func (h *Handlers) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.Identity.GetUserByName(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("username"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, user(u))
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
	api.WriteJSON(w, http.StatusOK, user(u))
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
