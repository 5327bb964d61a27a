package gatekey

import (
	"context"
	"time"

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
	Reprovision(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*gateway.Gateway, error)

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
	ProvisionMeshNode(ctx context.Context, p *authz.Principal, src audit.Source, hubID, spokeGatewayID string) (*gateway.Created, error)
	DeleteHub(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
	AddSpoke(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, sp gateway.Spoke) (*gateway.Hub, error)
	RemoveSpoke(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, sp gateway.Spoke) (*gateway.Hub, error)

	Sessions(ctx context.Context, p *authz.Principal, q gateway.SessionQuery) ([]*gateway.Session, int, error)
	CheckAgentNode(ctx context.Context, p *authz.Principal, nodeType string) error
	CutSession(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*gateway.Session, error)

	AuthenticateToken(ctx context.Context, token string) (*authz.Principal, error)
	Heartbeat(ctx context.Context, p *authz.Principal, src audit.Source, hb gateway.Heartbeat) (*gateway.HeartbeatReply, error)
	Provision(ctx context.Context, p *authz.Principal, src audit.Source, claimed string) (*gateway.Provisioned, error)
	Verify(ctx context.Context, p *authz.Principal, in gateway.ClientCert) (*gateway.Verdict, error)
	Connect(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.Connection) (*gateway.Session, error)
	Disconnect(ctx context.Context, p *authz.Principal, src audit.Source, in gateway.Connection) (*gateway.Session, error)
	AllRules(ctx context.Context, p *authz.Principal, claimed string) (*gateway.RuleSet, error)
	RecordAgent(ctx context.Context, p *authz.Principal, src audit.Source, kind gateway.AgentKind) error
	ClientGrants(ctx context.Context, p *authz.Principal, m gateway.SessionMatch) (*gateway.Session, *gateway.Verdict, error)
	MeshAgents
	HubMemberships
}

// The seed's rate limits that these handlers apply (authentication's
// 50/min per IP is api.LoginLimit); routes.go applies them.
var (
	// AdminLimit is the per-user budget of the admin API.
	AdminLimit = ratelimit.Limit{Max: 100, Window: time.Minute}
	// HeartbeatLimit is the per-gateway budget of heartbeats.
	HeartbeatLimit = ratelimit.Limit{Max: 120, Window: time.Minute}
	// ConfigLimit is the per-user budget of config generation.
	ConfigLimit = ratelimit.Limit{Max: 30, Window: time.Minute}
)

// now is the clock of derived states (a gateway's online status, a
// config's expiry).
func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
