package tlscert

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

// Tx is what the service needs of one store transaction.
type Tx interface {
	audit.Writer
	// PutTLSCertificate inserts c or replaces the certificate of its
	// domain, reporting whether one was replaced.
	PutTLSCertificate(ctx context.Context, c *Certificate) (replaced bool, err error)
	// TLSCertificate returns the certificate of domain or not_found.
	TLSCertificate(ctx context.Context, domain string) (*Certificate, error)
	// ListTLSCertificates returns every certificate, newest first.
	ListTLSCertificates(ctx context.Context) ([]*Certificate, error)
	// DeleteTLSCertificate removes domain's certificate or is not_found.
	DeleteTLSCertificate(ctx context.Context, domain string) error
}

// Store opens transactions.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Issuer is netkeep's CA; *pki.Service implements it.
type Issuer interface {
	IssueHost(ctx context.Context, src audit.Source, req pki.HostRequest) (*pki.Issued, error)
}

// Sealer seals private keys at rest; *secret.Keys implements it.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Host names this host: its host name, FQDN and interface addresses.
type Host interface {
	Names() ([]string, error)
}

// Service issues, stores and serves the HTTPS certificates. Changes write
// the store and their audit entry in one transaction, reload this
// replica's served set before they return, and publish a "tlscert" event
// so the other replicas reload theirs.
type Service struct {
	store  Store
	issuer Issuer
	keys   Sealer
	bus    event.Bus
	host   Host
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger

	served  atomic.Pointer[[]*served] // newest first
	loadMu  sync.Mutex                // one reload at a time
	sub     *event.Subscription
	serving atomic.Bool
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where background failures are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithTTL sets the lifetime of new certificates (default one year, cut to
// the CA's).
func WithTTL(d time.Duration) Option { return func(s *Service) { s.ttl = d } }

// NewService returns the service. bus may be nil (a single process).
func NewService(st Store, issuer Issuer, keys Sealer, bus event.Bus, host Host, opts ...Option) *Service {
	s := &Service{store: st, issuer: issuer, keys: keys, bus: bus, host: host, ttl: 365 * 24 * time.Hour,
		now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	empty := []*served{}
	s.served.Store(&empty)
	return s
}

// The event topic and actions.
const (
	topic         = "tlscert"
	actionPut     = "put"
	actionDeleted = "deleted"
)

// The authz actions: certificates are server-wide.
const (
	actRead  authz.Action = "certificates:read"
	actWrite authz.Action = "certificates:write"
)

// ReasonNotFound is the reason of an unknown domain.
const ReasonNotFound fault.Reason = "certificate_not_found"

func notFound(domain string) error {
	return fault.New(fault.NotFound, "certificate not found").WithReason(ReasonNotFound).
		WithDetails(map[string]any{"domain": domain})
}

// Start subscribes to changes from other replicas and loads the stored
// certificates; Run then follows the subscription. Call it after
// migrations.
func (s *Service) Start(ctx context.Context) error {
	if s.bus != nil {
		s.sub = s.bus.Subscribe(topic)
	}
	if err := s.reload(ctx); err != nil {
		if s.sub != nil {
			s.sub.Close()
			s.sub = nil
		}
		return err
	}
	return nil
}

// Run reloads the served certificates on every change another replica
// announces and on bus resyncs (a restore), until ctx ends.
func (s *Service) Run(ctx context.Context) {
	if s.sub == nil {
		return
	}
	defer s.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.sub.C():
			if !ok {
				return
			}
			if ev.Origin == s.bus.Origin() && ev.Topic != event.TopicBus && s.sub.Dropped() == 0 {
				continue // this replica reloaded before publishing
			}
			if err := s.reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("reloading TLS certificates", "error", err)
			}
		}
	}
}

// Close ends the subscription Start opened, also when Run never ran (a
// later start-up step failed). It may be called more than once.
func (s *Service) Close() {
	if s.sub != nil {
		s.sub.Close()
	}
}

// SetServing records that an HTTPS listener serves GetCertificate's
// certificates (set at wiring time), which makes generating one a TLS
// upgrade.
func (s *Service) SetServing(on bool) { s.serving.Store(on) }

// Serving reports whether an HTTPS listener serves the certificates.
func (s *Service) Serving() bool { return s.serving.Load() }

// GetCertificate is tls.Config.GetCertificate: the newest certificate
// whose names cover the name the client asked for (SNI) or, without SNI,
// the address it connected to; else the newest of all. Without any
// certificate the handshake fails.
func (s *Service) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return pick(*s.served.Load(), hello)
}

func (s *Service) publish(ctx context.Context, action, domain string) {
	if s.bus == nil {
		return
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: topic, Action: action, ID: domain}); err != nil {
		s.log.Warn("publishing TLS certificate event", "action", action, "domain", domain, "error", err)
	}
}
