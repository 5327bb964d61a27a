package gatekey

import (
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

const maxPerPage = 100

// adminUsers lists the users the caller may see, a page at a time (page from
// 1, per_page default 20, at most 100). The admin API is for administrators:
// a USER is refused even though it may read its group's users elsewhere.
// GateKey's own programs read ids as strings (programUserOf).
func (h *Handlers) adminUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.Identity.ListUsersAsAdmin(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if api.GateKeyProgram(r) {
		writePage(w, r, "users", users, programUserOf)
		return
	}
	writePage(w, r, "users", users, userJSON)
}

// programUserJSON is a user as gatekey-admin decodes it: a string id, the
// groups by name, timestamps that are never empty.
type programUserJSON struct {
	ID          string   `json:"id"`
	Username    string   `json:"username"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Provider    string   `json:"provider"`
	Groups      []string `json:"groups"`
	Role        string   `json:"role"`
	IsAdmin     bool     `json:"is_admin"`
	IsActive    bool     `json:"is_active"`
	LastLoginAt *string  `json:"last_login_at"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func programUserOf(u *identity.User) programUserJSON {
	groups := []string{}
	if u.GroupName != "" {
		groups = append(groups, u.GroupName)
	}
	return programUserJSON{ID: strconv.FormatInt(u.ID, 10), Username: u.Username, Email: u.Email, Name: displayName(u),
		Provider: "local", Groups: groups, Role: string(u.Role), IsAdmin: isAdmin(authz.Role(u.Role)), IsActive: u.IsActive,
		LastLoginAt: optionalTime(u.LastLogin), CreatedAt: timestamp(u.CreatedAt), UpdatedAt: timestamp(u.CreatedAt)}
}
