// Package netmaker serves the Netmaker dialect (seed 001): the Users API
// (get, update, delete by name; hasadmin, createadmin, authenticate) and
// the mesh API (networks, access keys, nodes and gateways, node
// credentials, peer views, the push stream, the server's own nodes, the
// agent download). routes.go lists every route with its access level.
// Errors use the {"error": {"code", "message"}} envelope. Handlers are
// thin: decode, call the identity or mesh domain, encode the wire shapes
// of internal/meshwire. It imports api and domain packages, never store.
package netmaker

import (
	"context"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/ratelimit"
)

// Identity is what these handlers need of the identity domain.
type Identity interface {
	MayCreateSuperAdmin(ctx context.Context, p *authz.Principal) error
	CreateSuperAdmin(ctx context.Context, p *authz.Principal, src audit.Source, username, password, email string) (*identity.User, error)
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	HasSuperAdmin(ctx context.Context) (bool, error)
	GetUserByName(ctx context.Context, p *authz.Principal, name string) (*identity.User, error)
	UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch identity.UserPatch) (*identity.User, error)
	DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// Handlers serves the dialect.
type Handlers struct {
	Identity Identity
	// Auth attaches a credential, when one is presented, to createadmin: the
	// route is public until the first user exists and needs a SUPER_ADMIN after.
	Auth *api.Authenticator
	// AuthLimiter limits authenticate, createadmin and hasadmin per source IP.
	AuthLimiter *ratelimit.Limiter
	// LoginFailures is how many failed authenticate and createadmin calls
	// one address may make (config AuthFailureLimit per minute); zero: no
	// such limit.
	LoginFailures ratelimit.Limit
}
