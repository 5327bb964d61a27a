package gatekey

import (
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// user is a user as GateKey shows it: never the password hash or the MFA
// secret. is_admin is true for the roles that may use the admin API. A
// credential that is no user account (an API key's or the master key's
// principal) shows the fields it has; the others are omitted.
type user struct {
	ID         int64   `json:"id"`
	Username   string  `json:"username"`
	Email      *string `json:"email,omitempty"`
	Name       *string `json:"name,omitempty"`
	Role       string  `json:"role"`
	IsAdmin    bool    `json:"is_admin"`
	IsActive   *bool   `json:"is_active,omitempty"`
	GroupID    int64   `json:"group_id"`
	GroupName  string  `json:"group_name,omitempty"`
	MFAEnabled *bool   `json:"mfa_enabled,omitempty"`
	LastLogin  *string `json:"last_login"`
	CreatedAt  string  `json:"created_at,omitempty"`
}

func userJSON(u *identity.User) user {
	var last *string
	if u.LastLogin != nil {
		s := timestamp(*u.LastLogin)
		last = &s
	}
	return user{
		ID: u.ID, Username: u.Username, Email: &u.Email, Name: &u.FullName,
		Role: string(u.Role), IsAdmin: isAdmin(authz.Role(u.Role)), IsActive: &u.IsActive,
		GroupID: u.GroupID, GroupName: u.GroupName, MFAEnabled: &u.MFAEnabled,
		LastLogin: last, CreatedAt: timestamp(u.CreatedAt),
	}
}

func isAdmin(r authz.Role) bool { return r == authz.SuperAdmin || r == authz.GroupAdmin }
