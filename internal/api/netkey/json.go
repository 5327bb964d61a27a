package netkey

import (
	"time"

	"netkeep/internal/identity"
)

// timestamp renders t as NetKey does: RFC 3339 in UTC to the second.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTimestamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return timestamp(*t)
}

// optionalTime is timestamp for a typed response field: nil stays null.
func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

// sessionUser is the user object of the login response.
func sessionUser(u *identity.User) map[string]any {
	return map[string]any{
		"id": u.ID, "username": u.Username, "full_name": u.FullName, "role": u.Role,
		"group_id": u.GroupID, "group_name": u.GroupName,
	}
}

// profile is GET /api/auth/me: the session user plus account state.
func profile(u *identity.User) map[string]any {
	m := sessionUser(u)
	m["email"] = u.Email
	m["email_verified"] = u.EmailVerified
	m["mfa_enabled"] = u.MFAEnabled
	m["last_login"] = optionalTimestamp(u.LastLogin)
	m["created_at"] = timestamp(u.CreatedAt)
	return m
}

// userJSON is a user as the users API shows it: never the password hash or
// the MFA secret.
func userJSON(u *identity.User) map[string]any {
	m := profile(u)
	m["is_active"] = u.IsActive
	m["updated_at"] = timestamp(u.UpdatedAt)
	return m
}
