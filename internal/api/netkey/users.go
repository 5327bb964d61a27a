package netkey

import (
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// userID parses the {id} path value; a malformed id names no user.
func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fault.New(fault.NotFound, "User not found").WithReason(identity.ReasonUserNotFound).
			WithDetails(map[string]any{"user_id": r.PathValue("id")})
	}
	return id, nil
}

// userErr gives not_found NetKey's shape: {"code": "USER_NOT_FOUND", "details": {"user_id": 7}}.
func userErr(err error, id int64) error {
	if fault.Is(err, fault.NotFound) {
		return fault.New(fault.NotFound, "User not found").WithReason(identity.ReasonUserNotFound).
			WithDetails(map[string]any{"user_id": id})
	}
	return err
}

// listUsers lists the users of the caller's group (every group for SUPER_ADMIN).
func (h *Handlers) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.Identity.ListUsers(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, user(u))
	}
	api.WriteJSON(w, http.StatusOK, userListJSON{Users: out, Total: len(out)})
}

// createUser creates a USER or GROUP_ADMIN in the caller's group. NetKey does
// not create SUPER_ADMINs here: for a SUPER_ADMIN caller that role is invalid;
// anyone else asking for it is refused by identity (forbidden), since they
// could not grant it anywhere.
func (h *Handlers) createUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
		FullName string `json:"full_name"`
		Role     string `json:"role"`
		GroupID  int64  `json:"group_id"` // SUPER_ADMIN only; default the caller's group
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	p := api.PrincipalFrom(r.Context())
	role := identity.Role(in.Role)
	switch {
	case role == "":
		role = identity.RoleUser
	case role == identity.SuperAdmin && !p.IsSuper():
		// identity refuses it as forbidden
	case role != identity.RoleUser && role != identity.GroupAdmin:
		api.Error(w, r, fault.New(fault.Invalid, "role must be USER or GROUP_ADMIN").WithDetails(map[string]any{"field": "role"}))
		return
	}
	u, err := h.Identity.CreateUser(r.Context(), p, api.Source(r), identity.NewUser{
		Username: in.Username, Email: in.Email, Password: in.Password, FullName: in.FullName, Role: role, GroupID: in.GroupID,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, user(u))
}

func (h *Handlers) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	u, err := h.Identity.GetUser(r.Context(), api.PrincipalFrom(r.Context()), id)
	if err != nil {
		api.Error(w, r, userErr(err, id))
		return
	}
	api.WriteJSON(w, http.StatusOK, user(u))
}

// updateUser changes the fields present in the body.
func (h *Handlers) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		Email    *string `json:"email"`
		FullName *string `json:"full_name"`
		Password *string `json:"password"`
		Role     *string `json:"role"`
		IsActive *bool   `json:"is_active"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	patch := identity.UserPatch{Email: in.Email, FullName: in.FullName, Password: in.Password, IsActive: in.IsActive}
	if in.Role != nil {
		role := identity.Role(*in.Role)
		patch.Role = &role
	}
	u, err := h.Identity.UpdateUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, patch)
	if err != nil {
		api.Error(w, r, userErr(err, id))
		return
	}
	api.WriteJSON(w, http.StatusOK, user(u))
}

func (h *Handlers) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.Identity.DeleteUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, userErr(err, id))
		return
	}
	api.WriteJSON(w, http.StatusOK, userDeletedJSON{Success: true, DeletedID: id})
}
