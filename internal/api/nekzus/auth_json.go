package nekzus

import (
	"time"

	"netkeep/internal/identity"
)

// The documented bodies of the auth endpoints shared by Nekzus and
// NetRecon: each response is the union of both products' fields.

// userJSON is the union of the Nekzus and NetRecon user objects.
type userJSON struct {
	ID         int64         `json:"id"`
	Username   string        `json:"username"`
	Email      string        `json:"email"`
	FullName   string        `json:"full_name"`
	Role       identity.Role `json:"role"`
	GroupID    int64         `json:"group_id"`
	GroupName  string        `json:"group_name"`
	CreatedAt  time.Time     `json:"createdAt"`
	LastLogin  *time.Time    `json:"lastLogin"`
	IsActive   bool          `json:"isActive"`
	MFAEnabled bool          `json:"mfa_enabled"`
}

func user(u *identity.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, FullName: u.FullName, Role: u.Role,
		GroupID: u.GroupID, GroupName: u.GroupName, CreatedAt: u.CreatedAt, LastLogin: u.LastLogin,
		IsActive: u.IsActive, MFAEnabled: u.MFAEnabled}
}

// sessionJSON answers login and refresh-token rotation: NetRecon's token
// pair, Nekzus's token, and the user.
type sessionJSON struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	Token        string   `json:"token"`
	User         userJSON `json:"user"`
}

func session(u *identity.User, t *identity.Tokens) sessionJSON {
	return sessionJSON{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "bearer",
		ExpiresIn: int(t.AccessTTL / time.Second), Token: t.AccessToken, User: user(u)}
}

// renewalJSON answers Nekzus's bearer refresh. deviceId names the client the
// token was issued to: for a user's token, its session (one per login).
type renewalJSON struct {
	AccessToken string   `json:"accessToken"`
	ExpiresIn   int      `json:"expiresIn"`
	Scopes      []string `json:"scopes"`
	DeviceID    string   `json:"deviceId"`
}

type meJSON struct {
	User userJSON `json:"user"`
}

type setupStatusJSON struct {
	SetupRequired bool `json:"setupRequired"`
	HasUsers      bool `json:"hasUsers"`
}

type setupJSON struct {
	Message  string `json:"message"`
	Username string `json:"username"`
}

type messageJSON struct {
	Message string `json:"message"`
}
