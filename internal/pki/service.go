package pki

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Config holds the CA's settings.
type Config struct {
	CAName      string        // subject CN of a generated CA ("netkeep CA")
	CAValidity  time.Duration // lifetime of a generated CA (10 years)
	ClientTTL   time.Duration // default client certificate lifetime (24 h, as GateKey)
	ServerTTL   time.Duration // default gateway server certificate lifetime (1 year)
	CRLValidity time.Duration // NextUpdate - ThisUpdate (24 h); regenerated at half-life
	// SyncInterval is how often a replica compares its CA and CRL with the
	// store (1 minute): it repairs missed events and refreshes the CRL
	// before NextUpdate.
	SyncInterval time.Duration
}

// DefaultConfig is GateKey's documented behaviour.
func DefaultConfig() Config {
	return Config{
		CAName:       "netkeep CA",
		CAValidity:   10 * 365 * 24 * time.Hour,
		ClientTTL:    24 * time.Hour,
		ServerTTL:    365 * 24 * time.Hour,
		CRLValidity:  24 * time.Hour,
		SyncInterval: time.Minute,
	}
}

// backdate is how far NotBefore and ThisUpdate lie in the past, so that
// peers whose clocks run slightly behind accept fresh certificates and CRLs.
const backdate = time.Minute

// Sealer encrypts the CA key at rest; *secret.Keys implements it.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Service is the CA. Issuance and revocation write the store and their audit
// entry in one transaction and publish a "pki" event after commit. It is
// safe for concurrent use.
type Service struct {
	store Store
	keys  Sealer
	bus   event.Bus
	cfg   Config
	now   func() time.Time
	log   *slog.Logger

	ca  atomic.Pointer[authority]      // the server-wide issuer
	crl atomic.Pointer[RevocationList] // its CRL: the one /pki/crl serves
	// loaded holds the CAs in service opened on this replica (int64 id →
	// *authority), crls their current CRLs (id → *RevocationList). sync
	// drops those that left service.
	loaded  sync.Map
	crls    sync.Map
	regenMu sync.Mutex // one regeneration at a time on this replica
	syncMu  sync.Mutex // one sync at a time

	mu      sync.Mutex // guards running and closed
	running bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where background failures are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the CA service over st, sealing keys with keys. bus may
// be nil (the CLI). Call Start before issuing or serving the CRL.
func NewService(st Store, keys Sealer, bus event.Bus, cfg Config, opts ...Option) *Service {
	def := DefaultConfig()
	if cfg.CAName == "" {
		cfg.CAName = def.CAName
	}
	for _, d := range []struct{ v, def *time.Duration }{
		{&cfg.CAValidity, &def.CAValidity}, {&cfg.ClientTTL, &def.ClientTTL}, {&cfg.ServerTTL, &def.ServerTTL},
		{&cfg.CRLValidity, &def.CRLValidity}, {&cfg.SyncInterval, &def.SyncInterval},
	} {
		if *d.v <= 0 {
			*d.v = *d.def
		}
	}
	s := &Service{store: st, keys: keys, bus: bus, cfg: cfg, now: time.Now, log: slog.Default(),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start makes sure a CA exists (creating it exactly once, also when several
// replicas start together), loads it and the CRL (generating one if none is
// stored or it is stale), then follows the bus and the sync interval until
// ctx ends or Close. Call it after migrations; after a failed Start the
// service cannot be started again.
func (s *Service) Start(ctx context.Context) error {
	// Subscribe before the first sync so that no change falls in between.
	s.mu.Lock()
	first := !s.running && !s.closed
	var sub *event.Subscription
	if first {
		s.running = true
		if s.bus != nil {
			sub = s.bus.Subscribe(topicPKI)
		}
	}
	s.mu.Unlock()
	err := s.ensureCA(ctx)
	if err == nil {
		err = s.sync(ctx)
	}
	switch {
	case !first:
		return err
	case err != nil:
		if sub != nil {
			sub.Close()
		}
		close(s.done)
		return err
	}
	go s.follow(ctx, sub)
	return nil
}

// Close stops the background sync and waits for it.
func (s *Service) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	running := s.running
	s.mu.Unlock()
	if running {
		<-s.done
	}
}

// follow syncs on every "pki" event that may change what this replica
// serves, on bus resyncs, and every sync interval.
func (s *Service) follow(ctx context.Context, sub *event.Subscription) {
	defer close(s.done)
	var events <-chan event.Event
	if sub != nil {
		defer sub.Close()
		events = sub.C()
	}
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case <-t.C:
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			lost := sub.Dropped() != dropped
			dropped = sub.Dropped()
			if ev.Topic != event.TopicBus && ev.Action != actionCRL && ev.Action != actionCA && !lost {
				continue
			}
		}
		if err := s.sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("synchronising the CA and CRL", "error", err)
		}
	}
}

// publish announces a committed change; a failure only delays other
// replicas until their next sync, so it is logged.
func (s *Service) publish(ctx context.Context, action string, groupID int64, id string) {
	if s.bus == nil {
		return
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: topicPKI, Action: action, GroupID: groupID, ID: id}); err != nil {
		s.log.Warn("publishing PKI event", "action", action, "id", id, "error", err)
	}
}

// The event topic and actions the service publishes: "issued" and "revoked"
// name a serial, "crl" a CRL number, "ca" the new CA's fingerprint.
const (
	topicPKI      = "pki"
	actionIssued  = "issued"
	actionRevoked = "revoked"
	actionCRL     = "crl"
	actionCA      = "ca"
)

var errNotStarted = fault.New(fault.Unavailable, "the certificate authority is not loaded yet")

// current returns the loaded CA or an unavailable error before Start.
func (s *Service) current() (*authority, error) {
	a := s.ca.Load()
	if a == nil {
		return nil, errNotStarted
	}
	return a, nil
}
