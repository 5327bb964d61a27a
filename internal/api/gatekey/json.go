package gatekey

import (
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// userJSON is a user as GateKey shows it: never the password hash or the MFA
// secret. is_admin is true for the roles that may use the admin API.
func userJSON(u *identity.User) map[string]any {
	var last any
	if u.LastLogin != nil {
		last = timestamp(*u.LastLogin)
	}
	return map[string]any{
		"id": u.ID, "username": u.Username, "email": u.Email, "name": u.FullName,
		"role": u.Role, "is_admin": isAdmin(authz.Role(u.Role)), "is_active": u.IsActive,
		"group_id": u.GroupID, "group_name": u.GroupName, "mfa_enabled": u.MFAEnabled,
		"last_login": last, "created_at": timestamp(u.CreatedAt),
	}
}

func isAdmin(r authz.Role) bool { return r == authz.SuperAdmin || r == authz.GroupAdmin }
