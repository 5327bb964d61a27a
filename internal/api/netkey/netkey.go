// Package netkey serves the NetKey dialect of netkeep's API for identity: the
// web login under /api/auth (JWT access token plus a rotating refresh token in
// an HttpOnly cookie, TOTP enrolment) and user administration under
// /api/v1/users, with NetKey's {"success": false, "error", "code", "details"}
// errors. Handlers are thin: decode, call the identity domain, encode. It
// imports api and domain packages, never store.
package netkey

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/ratelimit"
)

// Identity is what these handlers need of the identity domain.
type Identity interface {
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	Refresh(ctx context.Context, src audit.Source, refreshToken string) (*identity.User, *identity.Tokens, error)
	Logout(ctx context.Context, src audit.Source, userID int64, sessionID string) error

	SetupMFA(ctx context.Context, src audit.Source, userID int64) (*identity.Enrolment, error)
	EnableMFA(ctx context.Context, src audit.Source, userID int64, code string) error
	DisableMFA(ctx context.Context, src audit.Source, userID int64, password, code string) error

	ListUsers(ctx context.Context, p *authz.Principal) ([]*identity.User, error)
	GetUser(ctx context.Context, p *authz.Principal, id int64) (*identity.User, error)
	CreateUser(ctx context.Context, p *authz.Principal, src audit.Source, in identity.NewUser) (*identity.User, error)
	UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch identity.UserPatch) (*identity.User, error)
	DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// Handlers serves the dialect.
type Handlers struct {
	Identity Identity
	// AuthLimiter limits login and refresh per source IP (api.LoginLimit).
	AuthLimiter *ratelimit.Limiter
}
