package gateway

import (
	"context"
	"log/slog"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/event"
	"netkeep/internal/pki"
)

// PKI is what gateways need of the certificate authority: their server
// certificates at provisioning, and the client certificates /verify checks.
// *pki.Service implements it.
type PKI interface {
	// Trust is the group's issuer and every CA it trusts, with their CRLs.
	Trust(ctx context.Context, groupID int64) (*pki.Trust, error)
	IssueServer(ctx context.Context, src audit.Source, req pki.ServerRequest) (*pki.Issued, error)
	// IssueClient issues a mesh spoke's client certificate (req.GatewayID).
	IssueClient(ctx context.Context, src audit.Source, req pki.ClientRequest) (*pki.Issued, error)
	// Unrevoked lists the unrevoked, unexpired certificates of o.
	Unrevoked(ctx context.Context, o pki.Owner) ([]*pki.Certificate, error)
	Certificate(ctx context.Context, serial pki.Serial) (*pki.Certificate, error)
	RevokeUnchecked(ctx context.Context, src audit.Source, serial pki.Serial, reason pki.Reason) (*pki.Certificate, error)
	RevokeOwned(ctx context.Context, src audit.Source, o pki.Owner, reason pki.Reason) ([]*pki.Certificate, error)
}

// Sealer encrypts secrets at rest; *secret.Keys implements it.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Service is the gateway domain. It is safe for concurrent use; it keeps no
// state of its own besides what the store holds, so replicas need no
// synchronisation beyond the shared database.
type Service struct {
	store Store
	pki   PKI
	keys  Sealer
	bus   event.Bus
	now   func() time.Time
	log   *slog.Logger
	gate  AddressGate
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the service. bus may be nil (one process, no
// subscribers).
func NewService(st Store, ca PKI, keys Sealer, bus event.Bus, opts ...Option) *Service {
	s := &Service{store: st, pki: ca, keys: keys, bus: bus, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// TopicGateway is the event topic of every change the service publishes;
// the event's ID names the object ("gw-...", "net-...", "rule-...",
// "hub-...", "sess-...") and its Action says what happened
// ("gateway.created", "session.connected", ...).
const TopicGateway = "gateway"

// publish announces a committed change; a failure is only logged, since
// nothing in netkeep keeps state derived from these events yet.
func (s *Service) publish(ctx context.Context, action string, groupID int64, id string) {
	if s.bus == nil {
		return
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: TopicGateway, Action: action, GroupID: groupID, ID: id}); err != nil {
		s.log.Warn("publishing gateway event", "action", action, "id", id, "error", err)
	}
}

// stamp is the current time as stored: UTC, microseconds.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
