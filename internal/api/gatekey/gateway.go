package gatekey

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/gateway"
	"netkeep/internal/ratelimit"
)

// Gateways is what the gateway, network, access-rule, hub, session and
// agent handlers need of the gateway domain; *gateway.Service implements it.
type Gateways interface {
	UsableGateways(ctx context.Context, p *authz.Principal) ([]*gateway.Gateway, error)
	AdminGateways(ctx context.Context, p *authz.Principal) ([]*gateway.Gateway, error)
	AdminGateway(ctx context.Context, p *authz.Principal, id string) (*gateway.Gateway, error)
	CreateGateway(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.GatewayInput) (*gateway.Created, error)
	UpdateGateway(ctx context.Context, p *authz.Principal, src audit.Source, id string, in gateway.GatewayInput) (*gateway.Gateway, error)
	RegenerateToken(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*gateway.Created, error)
	DeleteGateway(ctx context.Context, p *authz.Principal, src audit.Source, id string) error

	Networks(ctx context.Context, p *authz.Principal) ([]*gateway.Network, error)
	Network(ctx context.Context, p *authz.Principal, id string) (*gateway.Network, error)
	CreateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.NetworkInput) (*gateway.Network, error)
	UpdateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, id string, in gateway.NetworkInput) (*gateway.Network, error)
	DeleteNetwork(ctx context.Context, p *authz.Principal, src audit.Source, id string) error

	Rules(ctx context.Context, p *authz.Principal) ([]*gateway.Rule, error)
	Rule(ctx context.Context, p *authz.Principal, id string) (*gateway.Rule, error)
	CreateRule(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.RuleInput) (*gateway.Rule, error)
	UpdateRule(ctx context.Context, p *authz.Principal, src audit.Source, id string, in gateway.RuleInput) (*gateway.Rule, error)
	DeleteRule(ctx context.Context, p *authz.Principal, src audit.Source, id string) error

	UsableHubs(ctx context.Context, p *authz.Principal) ([]*gateway.Hub, error)
	AdminHubs(ctx context.Context, p *authz.Principal) ([]*gateway.Hub, error)
	AdminHub(ctx context.Context, p *authz.Principal, id string) (*gateway.Hub, error)
	CreateHub(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.HubInput) (*gateway.Hub, error)
	UpdateHub(ctx context.Context, p *authz.Principal, src audit.Source, id string, in gateway.HubInput) (*gateway.Hub, error)
	DeleteHub(ctx context.Context, p *authz.Principal, src audit.Source, id string) error

	Sessions(ctx context.Context, p *authz.Principal, q gateway.SessionQuery) ([]*gateway.Session, int, error)

	AuthenticateToken(ctx context.Context, token string) (*authz.Principal, error)
	Heartbeat(ctx context.Context, p *authz.Principal, src audit.Source, hb gateway.Heartbeat) (*gateway.HeartbeatReply, error)
	Provision(ctx context.Context, p *authz.Principal, src audit.Source, claimed string) (*gateway.Provisioned, error)
	Verify(ctx context.Context, p *authz.Principal, in gateway.ClientCert) (*gateway.Verdict, error)
	Connect(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.Connection) (*gateway.Session, error)
	Disconnect(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.Connection) (*gateway.Session, error)
	AllRules(ctx context.Context, p *authz.Principal, claimed string) (*gateway.RuleSet, error)
}

// The seed's rate limits that these handlers apply (authentication's
// 50/min per IP is api.LoginLimit, applied by the login handlers).
var (
	// AdminLimit is the per-user budget of the admin API.
	AdminLimit = ratelimit.Limit{Max: 100, Window: time.Minute}
	// HeartbeatLimit is the per-gateway budget of heartbeats.
	HeartbeatLimit = ratelimit.Limit{Max: 120, Window: time.Minute}
	// ConfigLimit is the per-user budget of config generation.
	ConfigLimit = ratelimit.Limit{Max: 30, Window: time.Minute}
)

// LimitConfigGeneration wraps an Authenticated config-generation handler
// with ConfigLimit per user (429 in GateKey's envelope over it).
func LimitConfigGeneration(l *ratelimit.Limiter, next http.Handler) http.Handler {
	return api.LimitPrincipal(l, "gatekey-configs", ConfigLimit, next)
}

// GatewayHandlers serves GateKey's gateways, networks, access rules, mesh
// hubs and sessions (user and admin API, Authenticated), and the gateway
// agents' endpoints under /api/v1/gateway/ (Custom: X-Gateway-Token).
//
// Lists answer {"data": [...], "meta": {"total", "page", "per_page"}};
// single objects {"data": {...}}; the agent endpoints answer plain objects
// with the fields the agent reads (heartbeat: config_version,
// needs_reprovision, ca_fingerprint).
type GatewayHandlers struct {
	Gateways Gateways
	// Limiter keeps the admin (per user) and heartbeat (per gateway)
	// budgets; it may be shared with other families.
	Limiter *ratelimit.Limiter
	// Now is the clock gateways' online status is computed with (time.Now
	// when nil).
	Now func() time.Time
}

// Register adds the routes.
func (h *GatewayHandlers) Register(rt *api.Router) {
	rt = rt.As(api.GateKey)
	admin := func(pattern string, fn http.HandlerFunc) {
		rt.Handle(pattern, api.Authenticated, api.LimitPrincipal(h.Limiter, "gatekey-admin", AdminLimit, fn))
	}
	rt.HandleFunc("GET /api/v1/gateways", api.Authenticated, h.usableGateways)
	admin("GET /api/v1/admin/gateways", h.adminGateways)
	admin("POST /api/v1/admin/gateways", h.createGateway)
	admin("GET /api/v1/admin/gateways/{id}", h.adminGateway)
	admin("PUT /api/v1/admin/gateways/{id}", h.updateGateway)
	admin("DELETE /api/v1/admin/gateways/{id}", h.deleteGateway)
	admin("POST /api/v1/admin/gateways/{id}/regenerate-token", h.regenerateToken)

	admin("GET /api/v1/admin/networks", h.networks)
	admin("POST /api/v1/admin/networks", h.createNetwork)
	admin("GET /api/v1/admin/networks/{id}", h.network)
	admin("PUT /api/v1/admin/networks/{id}", h.updateNetwork)
	admin("DELETE /api/v1/admin/networks/{id}", h.deleteNetwork)

	admin("GET /api/v1/admin/access-rules", h.rules)
	admin("POST /api/v1/admin/access-rules", h.createRule)
	admin("GET /api/v1/admin/access-rules/{id}", h.rule)
	admin("PUT /api/v1/admin/access-rules/{id}", h.updateRule)
	admin("DELETE /api/v1/admin/access-rules/{id}", h.deleteRule)

	rt.HandleFunc("GET /api/v1/mesh/hubs", api.Authenticated, h.usableHubs)
	admin("GET /api/v1/admin/mesh/hubs", h.adminHubs)
	admin("POST /api/v1/admin/mesh/hubs", h.createHub)
	admin("GET /api/v1/admin/mesh/hubs/{id}", h.adminHub)
	admin("PUT /api/v1/admin/mesh/hubs/{id}", h.updateHub)
	admin("DELETE /api/v1/admin/mesh/hubs/{id}", h.deleteHub)

	admin("GET /api/v1/admin/sessions", h.sessions)

	rt.Handle("POST /api/v1/gateway/heartbeat", api.Custom, h.agent(h.heartbeat))
	rt.Handle("POST /api/v1/gateway/provision", api.Custom, h.agent(h.provision))
	rt.Handle("POST /api/v1/gateway/verify", api.Custom, h.agent(h.verify))
	rt.Handle("POST /api/v1/gateway/connect", api.Custom, h.agent(h.connect))
	rt.Handle("POST /api/v1/gateway/disconnect", api.Custom, h.agent(h.disconnect))
	rt.Handle("POST /api/v1/gateway/client-rules", api.Custom, h.agent(h.verify))
	rt.Handle("POST /api/v1/gateway/all-rules", api.Custom, h.agent(h.allRules))
}

func (h *GatewayHandlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
