// Package identity is who may act in netkeep: groups (tenants), users with roles,
// passwords (argon2id), sessions with rotating refresh tokens, JWT access
// tokens and TOTP. It knows nothing of HTTP or SQL: transports call Service,
// and Service reaches storage through the Store interface declared here.
package identity

import (
	"time"
)

// Role is a user's power within netkeep.
type Role string

// The roles. SUPER_ADMIN sees every group; GROUP_ADMIN manages its own group;
// USER reads what its group allows and manages only its own objects.
const (
	SuperAdmin Role = "SUPER_ADMIN"
	GroupAdmin Role = "GROUP_ADMIN"
	RoleUser   Role = "USER"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == SuperAdmin || r == GroupAdmin || r == RoleUser }

// Rank orders roles by power, for "may not grant more than you hold" checks.
func (r Role) Rank() int {
	switch r {
	case SuperAdmin:
		return 3
	case GroupAdmin:
		return 2
	case RoleUser:
		return 1
	}
	return 0
}

// Group is a tenant: every object belongs to exactly one.
type Group struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// User is an account. PasswordHash is a PHC argon2id string; MFASecret is the
// TOTP secret sealed under the server secret.
type User struct {
	ID            int64
	Username      string
	Email         string
	FullName      string
	Role          Role
	GroupID       int64
	GroupName     string // filled on reads
	PasswordHash  string
	MFASecret     []byte
	MFAEnabled    bool
	TOTPLastStep  int64
	EmailVerified bool
	IsActive      bool
	LastLogin     *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DefaultGroupName is the group the first administrator is created in.
const DefaultGroupName = "default"

// Session is one login: the family of its rotating refresh tokens and the
// sid of its access tokens. ExpiresAt is absolute: rotation never extends it.
type Session struct {
	ID           string
	UserID       int64
	Remember     bool
	IP           string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokeReason string
}

// RefreshToken is a stored refresh token: its SHA-256 and whether it was
// already rotated.
type RefreshToken struct {
	Hash      string
	SessionID string
	CreatedAt time.Time
	UsedAt    *time.Time
}
