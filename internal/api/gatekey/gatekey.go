// Package gatekey serves the GateKey dialect of netkeep's API for identity:
// local login (/api/v1/auth/local/login), the current session
// (/api/v1/auth/session) and the user list of the admin API
// (/api/v1/admin/users). Answers are wrapped in {"data", "meta"}; errors are
// {"error": {"code": "lower_case", "message"}}. Handlers are thin: decode,
// call the identity domain, encode. It imports api and domain packages, never
// store.
package gatekey

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
	GetUser(ctx context.Context, p *authz.Principal, id int64) (*identity.User, error)
	ListUsers(ctx context.Context, p *authz.Principal) ([]*identity.User, error)
	// Signer verifies the session's access token to report when it expires.
	Signer() *identity.Signer
}

// Handlers serves the dialect.
type Handlers struct {
	Identity Identity
	// AuthLimiter limits local login per source IP (api.LoginLimit).
	AuthLimiter *ratelimit.Limiter
}
