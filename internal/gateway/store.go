package gateway

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/identity"
)

// Store is gateway's view of persistence; internal/store binds it with
// store.For[gateway.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the gateway tables. Lookups return a not_found
// fault for a missing row; writes that break a uniqueness rule return a
// conflict fault whose details name the field ("name").
type Tx interface {
	audit.Writer
	// LockScope serialises check-then-act sequences across replicas.
	LockScope(ctx context.Context, key int64) error
	UserByID(ctx context.Context, id int64) (*identity.User, error)
	// UserByLogin finds a user of any group by username or email,
	// case-insensitively.
	UserByLogin(ctx context.Context, login string) (*identity.User, error)
	GroupByID(ctx context.Context, id int64) (*identity.Group, error)

	// InsertGateway stores g with the SHA-256 of its token and its sealed
	// tls-crypt key.
	InsertGateway(ctx context.Context, g *Gateway, tokenHash [32]byte, tlsCryptSealed []byte) error
	GatewayByID(ctx context.Context, id string) (*Gateway, error)
	// GatewayByTokenHash finds the gateway whose token has this SHA-256.
	GatewayByTokenHash(ctx context.Context, hash [32]byte) (*Gateway, error)
	// ListGateways returns groupID's gateways (every gateway for 0) by name.
	ListGateways(ctx context.Context, groupID int64) ([]*Gateway, error)
	// UpdateGateway writes g's settings, ConfigVersion and UpdatedAt.
	UpdateGateway(ctx context.Context, g *Gateway) error
	SetGatewayToken(ctx context.Context, id string, hash [32]byte, at time.Time) error
	// GatewayTLSCrypt returns the gateway's sealed tls-crypt key.
	GatewayTLSCrypt(ctx context.Context, id string) ([]byte, error)
	// SetGatewayPublicKey stores the WireGuard public key the agent reported.
	SetGatewayPublicKey(ctx context.Context, id, key string, at time.Time) error
	// SetGatewayAgent records which agent serves the gateway.
	SetGatewayAgent(ctx context.Context, id string, kind AgentKind, at time.Time) error
	// RecordHeartbeat sets the last heartbeat and agent version.
	RecordHeartbeat(ctx context.Context, id string, at time.Time, agentVersion string) error
	// RecordProvision stores the server certificate just issued to g
	// (CertSerial, CertNotAfter, CertHostname, CAFingerprint).
	RecordProvision(ctx context.Context, g *Gateway) error
	// BumpGatewayVersions raises ConfigVersion by one for each listed
	// gateway; unknown IDs are ignored.
	BumpGatewayVersions(ctx context.Context, ids []string, at time.Time) error
	// DeleteGateway removes the gateway, its network links, its spokes and
	// its sessions.
	DeleteGateway(ctx context.Context, id string) error

	InsertVPNNetwork(ctx context.Context, n *Network) error
	VPNNetworkByID(ctx context.Context, id string) (*Network, error)
	// ListVPNNetworks returns groupID's networks (every network for 0) by name.
	ListVPNNetworks(ctx context.Context, groupID int64) ([]*Network, error)
	// UpdateVPNNetwork writes n's fields and replaces its gateway links.
	UpdateVPNNetwork(ctx context.Context, n *Network) error
	// DeleteVPNNetwork removes the network, its gateway links and spokes.
	DeleteVPNNetwork(ctx context.Context, id string) error

	InsertAccessRule(ctx context.Context, r *Rule) error
	AccessRuleByID(ctx context.Context, id string) (*Rule, error)
	// ListAccessRules returns groupID's rules (every rule for 0) by name.
	ListAccessRules(ctx context.Context, groupID int64) ([]*Rule, error)
	// UserRules returns the enabled rules, without their subjects, that
	// name userID or groupID for a network behind gatewayID, by name: what
	// a user may reach through one gateway, in one query.
	UserRules(ctx context.Context, gatewayID string, userID, groupID int64) ([]*Rule, error)
	// CountNetworkRules counts the rules that refer to the network.
	CountNetworkRules(ctx context.Context, networkID string) (int, error)
	UpdateAccessRule(ctx context.Context, r *Rule) error
	DeleteAccessRule(ctx context.Context, id string) error

	InsertMeshHub(ctx context.Context, h *Hub) error
	MeshHubByID(ctx context.Context, id string) (*Hub, error)
	// ListMeshHubs returns groupID's hubs (every hub for 0) by name.
	ListMeshHubs(ctx context.Context, groupID int64) ([]*Hub, error)
	// CountHubsOf counts the hubs whose hub gateway is gatewayID.
	CountHubsOf(ctx context.Context, gatewayID string) (int, error)
	UpdateMeshHub(ctx context.Context, h *Hub) error
	// HubMembers returns a hub's members (without names), users first.
	HubMembers(ctx context.Context, hubID string) ([]Member, error)
	// InsertHubMember adds a member and reports whether it was new.
	InsertHubMember(ctx context.Context, hubID string, m Member) (bool, error)
	// DeleteHubMember removes a member; not_found when it is none.
	DeleteHubMember(ctx context.Context, hubID string, m Member) error
	DeleteMeshHub(ctx context.Context, id string) error

	InsertVPNSession(ctx context.Context, s *Session) error
	// ActiveVPNSession returns the gateway's open session of the client
	// certificate serial, not_found if none.
	ActiveVPNSession(ctx context.Context, gatewayID, serial string) (*Session, error)
	// MatchVPNSession returns the gateway's newest open session matching m
	// (not_found if none).
	MatchVPNSession(ctx context.Context, gatewayID string, m SessionMatch) (*Session, error)
	// VPNSession returns the session with id, open or closed; not_found
	// when there is none.
	VPNSession(ctx context.Context, id string) (*Session, error)
	// EndVPNSession closes an open session with its counters.
	EndVPNSession(ctx context.Context, s *Session) error
	// ListVPNSessions returns the sessions matching q, newest first, and
	// how many match in all.
	ListVPNSessions(ctx context.Context, q SessionQuery) ([]*Session, int, error)
}

// SessionQuery selects sessions for a listing.
type SessionQuery struct {
	GroupID    int64  // 0: every group
	GatewayID  string // "": every gateway
	ActiveOnly bool
	Limit      int
	Offset     int
}
