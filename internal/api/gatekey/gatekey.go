// Package gatekey serves the GateKey dialect of netkeep's API: identity
// (local login, the current session, the admin user list), the PKI (CA,
// CRL, revocation, serial checks), gateways, VPN networks, access rules,
// mesh hubs and sessions (user and admin APIs), the gateway-agent endpoints
// authenticated by X-Gateway-Token (heartbeat, provision, verify, connect,
// disconnect, rules), client configs (generate, download, revoke) and the
// OpenAPI 3.1 document of all of it (openapi.yaml, kept complete by a test
// that walks the registered routes). Lists are wrapped in {"data", "meta"};
// errors are {"error": {"code": "lower_case", "message"}}. The admin API
// shares one per-user rate limit (AdminLimit). Handlers are thin: decode,
// call the domain, encode. It imports api and domain packages, never store.
package gatekey

import (
	"context"
	"sync/atomic"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/ratelimit"
)

// Identity is what these handlers need of the identity domain.
type Identity interface {
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	Me(ctx context.Context, p *authz.Principal) (*identity.User, error)
	ListUsersAsAdmin(ctx context.Context, p *authz.Principal) ([]*identity.User, error)
	GetUserAsAdmin(ctx context.Context, p *authz.Principal, id int64) (*identity.User, error)
	ListGroups(ctx context.Context, p *authz.Principal) ([]identity.Group, error)
	// Self is the user a credential acts for, without a scope (a key
	// describing itself).
	Self(ctx context.Context, p *authz.Principal) (*identity.User, error)
	// StartExternalSession opens a session for a user proven otherwise
	// than by password (here: by the browser's session cookie).
	StartExternalSession(ctx context.Context, src audit.Source, userID int64, method string) (*identity.LoginResult, error)
	// AuthenticateWeb verifies a browser session cookie's token.
	AuthenticateWeb(ctx context.Context, token string) (*authz.Principal, string, time.Time, error)
	// The local-user views of gatekey-admin (admin_views.go).
	CreateUser(ctx context.Context, p *authz.Principal, src audit.Source, in identity.NewUser) (*identity.User, error)
	UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch identity.UserPatch) (*identity.User, error)
	DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	// AuditPage lists the audit entries p may read (gatekey-admin's audit)
	// and counts them all.
	AuditPage(ctx context.Context, p *authz.Principal, q audit.Query) ([]audit.Entry, int, error)
	// WebToken issues the browser session cookie's token for a session.
	WebToken(ctx context.Context, userID int64, sessionID string) (string, time.Time, error)
	// Signer verifies the session's access token to report when it expires.
	Signer() *identity.Signer
}

// Handlers serves the dialect; Register adds every route (routes.go).
type Handlers struct {
	Identity Identity
	PKI      PKI
	Gateways Gateways
	Configs  Configs
	// SSO is sign-in through identity providers; nil serves none of its
	// routes.
	SSO  *SSO
	Geo  GeoFence
	Keys Keys
	// UserConfigs revokes all of a user's VPN configurations at once
	// (admin_commands.go).
	UserConfigs UserConfigs
	// Channel carries GateKey agents' remote-session channels (GET
	// /ws/agent); nil serves none.
	Channel *AgentChannel
	// Remote runs network tools and checks remote sessions
	// (network_tools.go, admin_session.go); nil serves neither.
	Remote Remote
	// Providers lists identity providers for the web UI; nil: local only.
	Providers Providers
	// WebLogin is the path of GateKey's web UI sign-in page
	// (--gatekey-web-login); "" serves netkeep's own (cli_state.go).
	WebLogin string
	// Version is netkeep's version, shown by /api/v1/server/info.
	Version string
	// PublicURL and TrustProxyHeaders decide the server URL written into
	// the agent configuration mesh provisioning hands out (api.BaseURL).
	PublicURL         string
	TrustProxyHeaders bool
	// Limiter keeps every budget of the seed's rate-limit table (login per
	// IP, admin operations and config generation per user, heartbeats per
	// gateway); it may be shared with other dialects.
	Limiter *ratelimit.Limiter
	// LoginFailures is how many failed local logins one address may make
	// (config AuthFailureLimit per minute, shared with every dialect's
	// sign-in: api.SignIn); zero: no such limit.
	LoginFailures ratelimit.Limit
	// Now is the clock of derived states: a gateway's online status, a
	// config's expiry (time.Now when nil).
	Now func() time.Time

	served     atomic.Pointer[servedCRL] // headers of the CRL last served
	openAPIDoc *api.OpenAPIDocument      // openapi.yaml, converted by Register
}
