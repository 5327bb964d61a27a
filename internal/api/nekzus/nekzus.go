// Package nekzus serves the Nekzus dialect of netkeep's API (and the parts
// NetRecon shares with it): first-run setup, login, refresh, me, logout, API
// keys, audit logs, QR pairing, devices and their session cookies, the
// live event stream (WebSocket), activity, statistics, instance
// information, webhooks, backups, host resources and scripts under
// /api/v1, with {"error": {"code", "message"}} errors and Nekzus's
// rate-limit table (Limits). Handlers are thin: decode, call the domain,
// encode. It imports api
// and domain packages, never store.
package nekzus

import (
	"context"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/device"
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

// Devices is what these handlers need of the device domain.
type Devices interface {
	NewCode(ctx context.Context, p *authz.Principal, src audit.Source) (string, time.Time, error)
	Redeem(ctx context.Context, src audit.Source, code, baseURL string) (*device.Redemption, error)
	Pair(ctx context.Context, src audit.Source, bootstrap string, nd device.NewDevice) (*device.Device, *device.Token, error)
	Refresh(ctx context.Context, token string) (*device.Token, error)
	List(ctx context.Context, p *authz.Principal, page device.Page) ([]*device.Device, int, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*device.Device, error)
	Update(ctx context.Context, p *authz.Principal, src audit.Source, id string, u device.Update) (*device.Device, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (time.Time, error)
	Sessions(ctx context.Context, p *authz.Principal) ([]device.AppSession, error)
	ClearSessions(ctx context.Context, p *authz.Principal, src audit.Source, appID string) error
}

// Presence tells whether a device has a live connection (the event
// stream's WebSocket); it feeds the devices' "online".
type Presence interface {
	Online(deviceID string) bool
}

// APIKeys is what these handlers need of the API key domain.
type APIKeys = api.APIKeys

// Handlers serves the dialect.
type Handlers struct {
	Identity Identity
	Keys     APIKeys
	// AuthLimiter counts the Authentication endpoints' requests per
	// client address (AuthLimit) and the failed sign-ins (LoginFailures).
	AuthLimiter *ratelimit.Limiter
	// AuthLimit is how many requests one client address may make per
	// minute to the Authentication endpoints together (config
	// NekzusAuthLimit); zero: the document's 10.
	AuthLimit int
	// LoginFailures is how many failed sign-ins (login, setup, refresh,
	// every dialect together) one address may make (config
	// AuthFailureLimit per minute); zero: no such budget.
	LoginFailures ratelimit.Limit
	// Backups are the server's backups (SUPER_ADMIN only).
	Backups Backups
	// Host reads the host's resources (SUPER_ADMIN only).
	Host Host
	// Certificates are the HTTPS listener's certificates (SUPER_ADMIN only).
	Certificates Certificates
	// Scripts are the scripts of the scripts directory and their runs
	// (SUPER_ADMIN only).
	Scripts Scripts
	// Workflows are script workflows and schedules (SUPER_ADMIN only).
	Workflows Workflows
	// Live serves the event stream, activity, statistics and webhooks.
	Live *Live
	// Devices is QR pairing, devices and their session cookies.
	Devices Devices
	// IPLimiter counts requests per client address for Limits.
	IPLimiter *ratelimit.Limiter
	// PublicURL (when set) and the request, with X-Forwarded-Proto and
	// -Host when TrustProxyHeaders, say where devices reach the server.
	PublicURL         string
	TrustProxyHeaders bool
	// Presence reports devices online; nil: none is.
	Presence Presence
}
