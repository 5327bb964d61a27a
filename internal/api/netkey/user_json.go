package netkey

import (
	"time"

	"netkeep/internal/identity"
)

// The documented bodies of NetKey's auth and users endpoints. Users never
// show their password hash or MFA secret.

// sessionUserJSON is the user object of the login response.
type sessionUserJSON struct {
	ID        int64         `json:"id"`
	Username  string        `json:"username"`
	FullName  string        `json:"full_name"`
	Role      identity.Role `json:"role"`
	GroupID   int64         `json:"group_id"`
	GroupName string        `json:"group_name"`
}

// profileJSON is GET /api/auth/me: the session user plus account state.
type profileJSON struct {
	sessionUserJSON
	Email         string  `json:"email"`
	EmailVerified bool    `json:"email_verified"`
	MFAEnabled    bool    `json:"mfa_enabled"`
	LastLogin     *string `json:"last_login"`
	CreatedAt     string  `json:"created_at"`
}

// userJSON is a user as the users API shows it.
type userJSON struct {
	profileJSON
	IsActive  bool   `json:"is_active"`
	UpdatedAt string `json:"updated_at"`
}

type userListJSON struct {
	Users []userJSON `json:"users"`
	Total int        `json:"total"`
}

type userDeletedJSON struct {
	Success   bool  `json:"success"`
	DeletedID int64 `json:"deleted_id"`
}

type loginJSON struct {
	Success   bool            `json:"success"`
	Token     string          `json:"token"`
	ExpiresIn int             `json:"expires_in"`
	User      sessionUserJSON `json:"user"`
}

// mfaRequiredJSON is login's 200 answer when a TOTP code is needed.
type mfaRequiredJSON struct {
	RequiresMFA bool   `json:"requires_mfa"`
	MFAType     string `json:"mfa_type"`
}

type refreshJSON struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in"`
}

type successJSON struct {
	Success bool `json:"success"`
}

type mfaSetupJSON struct {
	Success    bool   `json:"success"`
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRCodePNG  string `json:"qr_code_png"`
}

func sessionUser(u *identity.User) sessionUserJSON {
	return sessionUserJSON{ID: u.ID, Username: u.Username, FullName: u.FullName, Role: u.Role, GroupID: u.GroupID, GroupName: u.GroupName}
}

func profile(u *identity.User) profileJSON {
	p := profileJSON{sessionUserJSON: sessionUser(u), Email: u.Email, EmailVerified: u.EmailVerified,
		MFAEnabled: u.MFAEnabled, CreatedAt: timestamp(u.CreatedAt)}
	if u.LastLogin != nil {
		t := timestamp(*u.LastLogin)
		p.LastLogin = &t
	}
	return p
}

func user(u *identity.User) userJSON {
	return userJSON{profileJSON: profile(u), IsActive: u.IsActive, UpdatedAt: timestamp(u.UpdatedAt)}
}

// expiresIn is the access token's lifetime in seconds, as issued.
func expiresIn(t *identity.Tokens) int { return int(t.AccessTTL / time.Second) }
