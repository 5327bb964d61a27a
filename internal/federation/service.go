package federation

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

// Authority is what federation needs of the CA: its certificate, and a
// server certificate for this instance's federation identity.
type Authority interface {
	CA() (*pki.CA, error)
	IssueServer(ctx context.Context, src audit.Source, req pki.ServerRequest) (*pki.Issued, error)
}

// Link carries federation requests to a peer over mutual TLS, accepting
// only the CA whose fingerprint is pin (with ClientTLS). Errors:
// unavailable when the peer cannot be reached or its certificate is not
// the pinned one; the peer's own refusals keep their code.
type Link interface {
	Join(ctx context.Context, peerURL, pin string, req JoinRequest) (JoinAnswer, error)
	Catalog(ctx context.Context, peerURL, pin string) (*Shared, error)
}

// Catalog is the local app catalog: the apps this instance shares and the
// place its peers' apps appear.
type Catalog interface {
	Entries() []catalog.Entry
	Lookup(appID string) (catalog.Entry, bool)
	HealthOf(appID string) catalog.Health
	SetRemote(peerID string, entries []catalog.Entry)
	RemotePeers() []string
}

// Config holds the federation's settings.
type Config struct {
	// Name is this instance's name as its peers show it.
	Name string
	// URL is where peers reach this instance's federation listener
	// (https://host:port); empty until the listener runs (SetURL), and
	// federation is off while it is empty.
	URL string
	// SyncInterval is how often every peer's catalog is fetched (1 minute).
	SyncInterval time.Duration
	// TokenTTL is a join token's default lifetime (1 hour).
	TokenTTL time.Duration
	// DefaultGroup returns the group peers' apps belong to in the local
	// catalog.
	DefaultGroup func(ctx context.Context) (int64, error)
}

// identity is this instance's federation identity: its certificate (with
// the CA as second element of the chain) and the CA's pin.
type identity struct {
	cert        tls.Certificate
	fingerprint string
	peerID      string
}

// Service is the federation. It is safe for concurrent use.
type Service struct {
	store   Store
	ca      Authority
	link    Link
	catalog Catalog
	cfg     Config
	now     func() time.Time
	log     *slog.Logger

	sealer Sealer    // nil: the certificate is not kept
	bus    event.Bus // nil: a single replica, nothing to tell
	sub    *event.Subscription

	url     atomic.Pointer[string]
	id      atomic.Pointer[identity]
	running atomic.Bool
	kick    chan struct{}
	syncMu  sync.Mutex // one sync round at a time
	// showMu makes reading the store and showing it in the catalog one
	// step, so a slower refresh never shows an older state over a newer.
	showMu sync.Mutex
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithBus tells the other replicas sharing the database of every peer
// sync and removal (TopicFederation), and announces remote apps' health
// changes; each replica's catalog follows the others' at once.
func WithBus(b event.Bus) Option { return func(s *Service) { s.bus = b } }

// WithSealer keeps the federation certificate's key, sealed, so the
// certificate is reused across starts; without one, a certificate is
// issued at every start and its key lives in memory only.
func WithSealer(sl Sealer) Option { return func(s *Service) { s.sealer = sl } }

// WithLogger sets where background failures are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the federation over st. Call Start after the CA has
// started.
func NewService(st Store, ca Authority, link Link, cat Catalog, cfg Config, opts ...Option) *Service {
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	s := &Service{store: st, ca: ca, link: link, catalog: cat, cfg: cfg, now: time.Now, log: slog.Default(),
		kick: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	u := cfg.URL
	s.url.Store(&u)
	return s
}

var (
	errNotRunning  = fault.New(fault.Unavailable, "federation is not running")
	errDisabled    = fault.New(fault.Conflict, "federation is not enabled on this server (set --federation-listen)")
	errPeerMissing = fault.New(fault.NotFound, "peer not found")
)

// The actions federation checks: peers are server-wide.
const (
	actRead  authz.Action = "federation:read"
	actWrite authz.Action = "federation:write"
)

func peerTarget(id string) string { return "federation-peer:" + id }

// SetURL sets where peers reach this instance, once its listener runs.
func (s *Service) SetURL(u string) { s.url.Store(&u) }

// URL is where peers reach this instance ("" when federation is off).
func (s *Service) URL() string { return *s.url.Load() }

// LocalPeerID is this instance's peer id ("" before Start).
func (s *Service) LocalPeerID() string {
	if id := s.id.Load(); id != nil {
		return id.peerID
	}
	return ""
}

// Enabled reports whether this instance takes part in federation.
func (s *Service) Enabled() bool { return s.URL() != "" }

// Start builds this instance's federation identity: the listener's
// certificate (identity.go) and the CA's pin; then it shows the peers'
// apps as last synced.
func (s *Service) Start(ctx context.Context) error {
	ca, err := s.ca.CA()
	if err != nil {
		return err
	}
	req := pki.ServerRequest{CommonName: s.name(), GatewayID: "federation", DNSNames: []string{"localhost"}, TTL: 0}
	if u, err := url.Parse(s.URL()); err == nil && u.Hostname() != "" {
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			req.IPs = append(req.IPs, ip)
		} else if u.Hostname() != "localhost" {
			req.DNSNames = append(req.DNSNames, u.Hostname())
		}
	}
	cert, err := s.certificate(ctx, ca, req)
	if err != nil {
		return fmt.Errorf("federation certificate: %w", err)
	}
	s.id.Store(&identity{cert: cert, fingerprint: ca.Fingerprint, peerID: PeerID(ca.Fingerprint)})
	if s.bus != nil && s.sub == nil {
		// Subscribed before the catalog is read: no change is missed
		// between the two.
		s.sub = s.bus.Subscribe(TopicFederation)
	}
	return s.refreshCatalog(ctx)
}

// name is this instance's name for its peers.
func (s *Service) name() string {
	if s.cfg.Name != "" {
		return s.cfg.Name
	}
	return "netkeep"
}

// local returns this instance's identity. Errors: conflict when
// federation is off, unavailable before Start.
func (s *Service) local() (*identity, error) {
	if !s.Enabled() {
		return nil, errDisabled
	}
	id := s.id.Load()
	if id == nil {
		return nil, errNotRunning
	}
	return id, nil
}

// Status reports the federation's state. Errors: unauthorized, forbidden.
func (s *Service) Status(ctx context.Context, p *authz.Principal) (*Status, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	peers, err := s.store.Read().FederationPeers(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{Enabled: s.Enabled(), LocalPeerName: s.name(), PeerCount: len(peers),
		PeersByStatus: map[string]int{StatusConnected: 0, StatusDisconnected: 0}, Running: s.running.Load()}
	if id := s.id.Load(); id != nil {
		st.LocalPeerID = id.peerID
	}
	for _, p := range peers {
		st.PeersByStatus[p.Status]++
	}
	return st, nil
}

// Peers lists every peer by name. Errors: unauthorized, forbidden.
func (s *Service) Peers(ctx context.Context, p *authz.Principal) ([]*Peer, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.store.Read().FederationPeers(ctx)
}

// Peer returns one peer. Errors: unauthorized, forbidden, not_found.
func (s *Service) Peer(ctx context.Context, p *authz.Principal, id string) (*Peer, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.peer(ctx, s.store.Read(), id)
}

func (s *Service) peer(ctx context.Context, tx Tx, id string) (*Peer, error) {
	peer, err := tx.FederationPeer(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errPeerMissing
	}
	return peer, err
}

// RemovePeer ends the trust in a peer: its pin, its apps (gone from the
// catalog at once) and its access to this instance's apps. The peer is
// not told; its own syncs are refused from now on. Errors: unauthorized,
// forbidden, not_found.
func (s *Service) RemovePeer(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		peer, err := s.peer(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteFederationPeer(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "federation.peer.remove", peerTarget(id), map[string]any{
			"name": peer.Name, "url": peer.URL, "ca_fingerprint": peer.CAFingerprint})
	})
	if err != nil {
		return err
	}
	s.catalog.SetRemote(id, nil)
	s.publish(ctx, ActionPeerRemoved, id)
	return nil
}

// Authenticate returns the peer whose pinned CA issued the caller's
// verified chain (fingerprint from Presented). A peer this instance has
// never synced with, or last found unreachable, has just shown that the
// link works: a sync round is started for it without waiting. Errors:
// forbidden for any other certificate.
func (s *Service) Authenticate(ctx context.Context, fingerprint string) (*Peer, error) {
	if _, err := s.local(); err != nil {
		return nil, err
	}
	peer, err := s.store.Read().FederationPeer(ctx, PeerID(fingerprint))
	switch {
	case fault.Is(err, fault.NotFound):
		return nil, errUnpinned
	case err != nil:
		return nil, err
	case peer.CAFingerprint != fingerprint:
		return nil, errUnpinned
	}
	if peer.LastSyncAt == nil || peer.Status != StatusConnected {
		s.soon()
	}
	return peer, nil
}

// Shared is what this instance shares with peer: its own active apps
// (never another peer's: links do not chain).
func (s *Service) Shared(peer *Peer) (*Shared, error) {
	id, err := s.local()
	if err != nil {
		return nil, err
	}
	out := &Shared{PeerID: id.peerID, Name: s.name(), Apps: []SharedApp{}}
	for _, e := range s.catalog.Entries() {
		if e.Remote != nil || e.Route.Status != catalog.StatusActive {
			continue
		}
		out.Apps = append(out.Apps, SharedApp{ID: e.App.ID, Name: e.App.Name, Icon: e.App.Icon, Tags: e.App.Tags,
			Auth: string(e.Route.Auth), Scopes: e.Route.Scopes, WebSocket: e.Route.WebSocket, Health: s.catalog.HealthOf(e.App.ID).Status})
	}
	return out, nil
}

// Run syncs with every peer each SyncInterval, and soon after a join,
// and follows the other replicas' syncs and removals, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.running.Store(true)
	defer s.running.Store(false)
	var follower sync.WaitGroup
	defer follower.Wait()
	if s.sub != nil {
		follower.Go(func() { s.follow(ctx) })
	}
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		if s.Enabled() && s.id.Load() != nil {
			if _, err := s.syncAll(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("federation sync", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// soon asks Run for a sync round without waiting for it.
func (s *Service) soon() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
