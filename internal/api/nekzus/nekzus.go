// Package nekzus serves the Nekzus dialect of netkeep's API (and the parts
// NetRecon shares with it): first-run setup, login, refresh, me, logout, API
// keys, audit logs, the live event stream (WebSocket), activity,
// statistics, instance information and webhooks under /api/v1, with {"error": {"code", "message"}}
// errors. Handlers are thin: decode, call the domain, encode. It imports api
// and domain packages, never store.
package nekzus

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
	SetupStatus(ctx context.Context) (bool, error)
	Setup(ctx context.Context, src audit.Source, username, password string) (*identity.User, error)
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	Refresh(ctx context.Context, src audit.Source, refreshToken string) (*identity.User, *identity.Tokens, error)
	RefreshAccess(ctx context.Context, token string) (*identity.Renewal, error)
	Logout(ctx context.Context, p *authz.Principal, src audit.Source) error
	Me(ctx context.Context, p *authz.Principal) (*identity.User, error)
	ListAudit(ctx context.Context, p *authz.Principal, q audit.Query) ([]audit.Entry, error)
}

// APIKeys is what these handlers need of the API key domain.
type APIKeys = api.APIKeys

// Handlers serves the dialect.
type Handlers struct {
	Identity Identity
	Keys     APIKeys
	// AuthLimiter limits login and setup per source IP (50/minute).
	AuthLimiter *ratelimit.Limiter
	// Backups are the server's backups (SUPER_ADMIN only).
	Backups Backups
	// Host reads the host's resources (SUPER_ADMIN only).
	Host Host
	// Scripts are the scripts of the scripts directory and their runs
	// (SUPER_ADMIN only).
	Scripts Scripts
	// Workflows are script workflows and schedules (SUPER_ADMIN only).
	Workflows Workflows
	// Live serves the event stream, activity, statistics and webhooks.
	Live *Live
}
