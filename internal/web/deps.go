package web

import (
	"context"
	"io"
	"net/http"
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

// Identity is what the pages need of the identity domain: sign-in and the
// browser session, MFA, users, groups and the audit log.
type Identity interface {
	SetupStatus(ctx context.Context) (hasUsers bool, err error)
	Setup(ctx context.Context, src audit.Source, username, password string) (*identity.User, error)
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	WebToken(ctx context.Context, userID int64, sessionID string) (string, time.Time, error)
	Logout(ctx context.Context, p *authz.Principal, src audit.Source) error
	Me(ctx context.Context, p *authz.Principal) (*identity.User, error)

	SetupMFA(ctx context.Context, p *authz.Principal, src audit.Source) (*identity.Enrolment, error)
	EnableMFA(ctx context.Context, p *authz.Principal, src audit.Source, code string) error

	ListUsersAsAdmin(ctx context.Context, p *authz.Principal) ([]*identity.User, error)
	CreateUser(ctx context.Context, p *authz.Principal, src audit.Source, in identity.NewUser) (*identity.User, error)
	UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch identity.UserPatch) (*identity.User, error)
	DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	ListGroups(ctx context.Context, p *authz.Principal) ([]identity.Group, error)
	CreateGroup(ctx context.Context, p *authz.Principal, src audit.Source, name string) (*identity.Group, error)
	ListAudit(ctx context.Context, p *authz.Principal, q audit.Query) ([]audit.Entry, error)
}

// PSKs is the identity PSK domain: guest and device passphrases and the
// endpoints (MACs) bound to them.
type PSKs interface {
	List(ctx context.Context, p *authz.Principal, f psk.Filter) (*psk.Page, error)
	Get(ctx context.Context, p *authz.Principal, id int64) (*psk.PSK, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in psk.NewPSK) (*psk.PSK, error)
	CreateBulk(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, items []psk.NewPSK) ([]*psk.PSK, error)
	Update(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch psk.Patch) (*psk.PSK, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	Import(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, r io.Reader) (*psk.ImportResult, error)
	PreviewImport(ctx context.Context, p *authz.Principal, groupID int64, r io.Reader, show int) (*psk.ImportPreview, error)
	ListEndpoints(ctx context.Context, p *authz.Principal, f psk.EndpointFilter) (*psk.EndpointPage, error)
	CreateEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in psk.NewEndpoint) (*psk.Endpoint, error)
	DeleteEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	Now() time.Time
}

// RadiusClients is the RADIUS NAS client domain and its accounting sessions.
type RadiusClients interface {
	List(ctx context.Context, p *authz.Principal) ([]*nas.Client, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in nas.NewClient) (*nas.Client, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	Sessions(ctx context.Context, p *authz.Principal, f nas.SessionFilter) ([]*nas.Session, int, error)
}

// Mesh is the WireGuard mesh domain.
type Mesh interface {
	ListNetworks(ctx context.Context, p *authz.Principal) ([]*mesh.Network, error)
	CreateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, f mesh.NetworkFields) (*mesh.Network, error)
	ListNodePage(ctx context.Context, p *authz.Principal, netid string, offset, limit int) (*mesh.NodePage, error)
	Approve(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) (*mesh.Node, error)
	DeleteNode(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) error
	ListKeys(ctx context.Context, p *authz.Principal, netid string) ([]*mesh.AccessKey, error)
	CreateKey(ctx context.Context, p *authz.Principal, src audit.Source, netid string, f mesh.KeyFields) (*mesh.AccessKey, error)
	DeleteKey(ctx context.Context, p *authz.Principal, src audit.Source, netid, name string) error
}

// Gateways is GateKey's VPN gateways, networks and access rules.
type Gateways interface {
	AdminGateways(ctx context.Context, p *authz.Principal) ([]*gateway.Gateway, error)
	UsableGateways(ctx context.Context, p *authz.Principal) ([]*gateway.Gateway, error)
	Networks(ctx context.Context, p *authz.Principal) ([]*gateway.Network, error)
	Rules(ctx context.Context, p *authz.Principal) ([]*gateway.Rule, error)
}

// Configs is GateKey's VPN client configurations.
type Configs interface {
	Generate(ctx context.Context, p *authz.Principal, src audit.Source, gatewayID, protocol string) (*vpnconfig.Generated, error)
	Download(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*vpnconfig.File, error)
}

// PKI is the internal CA: its certificate and revocation list.
type PKI interface {
	CA() (*pki.CA, error)
	CRL() (*pki.RevocationList, error)
}

// APIKeys is the API key domain.
type APIKeys interface {
	List(ctx context.Context, p *authz.Principal) ([]*apikey.Key, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in apikey.NewKey) (*apikey.Key, string, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*apikey.Key, error)
}

// Authenticator attaches the principal of a request's credential (the
// session cookie) when it has a valid one; *api.Authenticator is one.
type Authenticator interface {
	Optional(next http.Handler) http.Handler
}

// Devices is what the devices page needs of the device domain (Nekzus's
// paired phones and desktops).
type Devices interface {
	List(ctx context.Context, p *authz.Principal, page device.Page) ([]*device.Device, int, error)
	NewCode(ctx context.Context, p *authz.Principal, src audit.Source) (string, time.Time, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (time.Time, error)
}
