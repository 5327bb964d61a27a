package offboard

import (
	"context"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/device"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/pki"
	"netkeep/internal/psk"
	"netkeep/internal/radius/nas"
	"netkeep/internal/vpnconfig"
)

// What offboarding needs of each facet's service. Each method is the
// facet's own, with its authorization, audit entry and push.

// Users is the identity service.
type Users interface {
	GetUser(ctx context.Context, p *authz.Principal, id int64) (*identity.User, error)
	UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch identity.UserPatch) (*identity.User, error)
	DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// PSKs is the identity PSK service.
type PSKs interface {
	EachPSK(ctx context.Context, groupID int64, fn func(*psk.PSK) error) error
	EachEndpoint(ctx context.Context, groupID int64, fn func(*psk.Endpoint) error) error
	Update(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch psk.Patch) (*psk.PSK, error)
	DeleteEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// NAS is the RADIUS clients service: accounting sessions and RFC 5176
// requests to end them (each answer audited).
type NAS interface {
	Sessions(ctx context.Context, p *authz.Principal, f nas.SessionFilter) ([]*nas.Session, int, error)
	Disconnect(ctx context.Context, p *authz.Principal, src audit.Source, f nas.SessionFilter) ([]nas.DisconnectResult, error)
}

// Mesh is the WireGuard mesh service; deleting a node pushes its removal
// to every peer's stream.
type Mesh interface {
	ListNodes(ctx context.Context, p *authz.Principal, netid string) ([]*mesh.Node, map[int64]*mesh.Network, error)
	GetNode(ctx context.Context, p *authz.Principal, netid, mac string) (*mesh.Node, *mesh.Network, error)
	DeleteNode(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) error
}

// Configs is the VPN client configuration service.
type Configs interface {
	List(ctx context.Context, p *authz.Principal, q vpnconfig.Query) ([]*vpnconfig.Config, int, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id, reason string) (*vpnconfig.Config, error)
}

// Certificates is the PKI: revoking every certificate of a user in one
// transaction regenerates the CRL once.
type Certificates interface {
	RevokeOwned(ctx context.Context, src audit.Source, o pki.Owner, reason pki.Reason) ([]*pki.Certificate, error)
}

// Gateways lists live VPN sessions.
type Gateways interface {
	Sessions(ctx context.Context, p *authz.Principal, q gateway.SessionQuery) ([]*gateway.Session, int, error)
}

// Devices is the paired device service; revoking a device closes its
// WebSockets with device_revoked.
type Devices interface {
	List(ctx context.Context, p *authz.Principal, page device.Page) ([]*device.Device, int, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*device.Device, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (time.Time, error)
}

// APIKeys is the API key service.
type APIKeys interface {
	List(ctx context.Context, p *authz.Principal) ([]*apikey.Key, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*apikey.Key, error)
}

// Tx is what offboarding reads and writes of the store directly: the live
// sign-in sessions and unrevoked certificates of a user (for the
// inventory), and the summary audit entry.
type Tx interface {
	audit.Writer
	LiveSessionsOfUser(ctx context.Context, userID int64, now time.Time) ([]*identity.Session, error)
	UnrevokedCertificates(ctx context.Context, o pki.Owner, authorityID int64, now time.Time) ([]*pki.Certificate, error)
}

// Store opens transactions.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}
