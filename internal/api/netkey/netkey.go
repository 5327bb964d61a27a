// Package netkey serves the NetKey dialect of netkeep's API, with NetKey's
// {"success": false, "error", "code", "details"} errors:
//
//   - authentication under /api/auth: the web login (JWT access token plus a
//     rotating refresh token in an HttpOnly cookie), refresh, logout, me, and
//     TOTP MFA setup, enable and disable (Handlers, over identity);
//   - user administration under /api/v1/users (Handlers, over identity);
//   - identity PSKs under /api/v1/psks: CRUD, bulk create, CSV import (with
//     its own body limit, streamed) and hostapd/CSV export, and the endpoints
//     (station MACs) bound to them under /api/v1/endpoints (over
//     psk);
//   - the RADIUS server's NAS clients under /api/v1/radius/clients and its
//     accounting sessions under /api/v1/radius/sessions (over
//     radius/nas).
//
// Every lookup is scoped to the caller's group (super principals see every
// group); another group's objects are not found. Handlers are thin: decode, call one domain method, encode;
// each handler struct declares the small interface it consumes. The package
// imports api and domain packages, never store.
package netkey

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/ratelimit"
)

// Identity is what these handlers need of the identity domain.
type Identity interface {
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	Refresh(ctx context.Context, src audit.Source, refreshToken string) (*identity.User, *identity.Tokens, error)
	Logout(ctx context.Context, p *authz.Principal, src audit.Source) error
	Me(ctx context.Context, p *authz.Principal) (*identity.User, error)

	SetupMFA(ctx context.Context, p *authz.Principal, src audit.Source) (*identity.Enrolment, error)
	EnableMFA(ctx context.Context, p *authz.Principal, src audit.Source, code string) error
	DisableMFA(ctx context.Context, p *authz.Principal, src audit.Source, password, code string) error

	ListUsers(ctx context.Context, p *authz.Principal) ([]*identity.User, error)
	GetUser(ctx context.Context, p *authz.Principal, id int64) (*identity.User, error)
	CreateUser(ctx context.Context, p *authz.Principal, src audit.Source, in identity.NewUser) (*identity.User, error)
	UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch identity.UserPatch) (*identity.User, error)
	DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// Handlers serves the dialect: sign-in, MFA and users over Identity; PSKs
// and endpoints over PSKs; RADIUS clients and sessions over Clients.
type Handlers struct {
	Identity Identity
	// AuthLimiter limits login and refresh per source IP (api.SignIn).
	AuthLimiter *ratelimit.Limiter
	// LoginFailures is how many failed logins and refreshes one address
	// may make (config AuthFailureLimit per minute); zero: no such limit.
	LoginFailures ratelimit.Limit

	PSKs PSKs
	// MaxImportBytes bounds a CSV import's body (DefaultMaxImportBytes when
	// 0). See importPSKs for how it relates to the server's body limit.
	MaxImportBytes int64
	// ImportTimeout bounds how long a CSV import's upload may take
	// (config.DefaultImportTimeout when 0; the server sets
	// config.Config.ImportTimeout), whatever the server's read timeout.
	ImportTimeout time.Duration

	Clients RadiusClients
}
