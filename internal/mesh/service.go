package mesh

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/lockout"
)

// TokenSigner signs and verifies the server's JWTs; identity.Signer is one.
// Node tokens share the key with user tokens and differ by audience.
type TokenSigner interface {
	Sign(claims jwt.Claims) (string, error)
	Verify(token, audience string, claims jwt.Claims, withGrace bool) error
}

// Sealer encrypts secrets at rest; secret.Keys is one.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Service is the mesh domain. Every change writes the store and its audit
// entry in one transaction, applies itself to the in-memory network state,
// which fans it out to the network's streams, and publishes a "network" or
// "node" event from which the other replicas apply it too. Reads, views and
// streams are served from memory. It is safe for concurrent use.
type Service struct {
	store    Store
	bus      event.Bus
	origin   string // the bus's replica id: our own events are already applied
	signer   TokenSigner
	sealer   Sealer
	now      func() time.Time
	log      *slog.Logger
	params   identity.PasswordParams
	pwKey    []byte
	pw       *nodePasswords
	tokenTTL time.Duration
	buffer   int
	flushDur time.Duration

	mu       sync.RWMutex
	byNetID  map[string]*netState
	byID     map[int64]*netState
	netTombs map[int64]time.Time // deleted network IDs, so a late event cannot revive one
	closed   bool
	loadedAt time.Time

	checkins  checkins
	applied   applyClock
	dummyOnce sync.Once
	dummy     string
	locks     *lockout.Lockout
	reloadMu  sync.Mutex // one reconciliation with the store at a time

	sub       *event.Subscription
	watching  chan struct{}
	closeOnce sync.Once
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithPasswordParams sets the argon2id cost of node passwords (default
// identity.DefaultPasswordParams).
func WithPasswordParams(p identity.PasswordParams) Option {
	return func(s *Service) {
		if p.MemoryKiB != 0 {
			s.params = p
		}
	}
}

// WithNodePasswordKey sets the HMAC key of node passwords' keyed hashes
// (secret.Keys.NodePasswordKey). Without it every node password is hashed
// with argon2id. See password.go for when a password gets a keyed hash.
func WithNodePasswordKey(key []byte) Option {
	return func(s *Service) { s.pwKey = key }
}

// WithNodeTokenTTL sets the lifetime of node JWTs (default 24 hours).
func WithNodeTokenTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.tokenTTL = d
		}
	}
}

// WithStreamBuffer sets how many changes each network's log keeps, which is
// how far a stream's consumer may fall behind before it is dropped with
// EndResync (default DefaultStreamBuffer).
func WithStreamBuffer(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.buffer = n
		}
	}
}

// WithFlushInterval sets how often Run writes check-in times (default 30 s).
func WithFlushInterval(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.flushDur = d
		}
	}
}

// DefaultNodeTokenTTL is how long a node JWT is valid.
const DefaultNodeTokenTTL = 24 * time.Hour

// NewService returns the service. Call Start before use: it loads the state.
// A nil bus means one process without replicas.
func NewService(st Store, bus event.Bus, signer TokenSigner, sealer Sealer, opts ...Option) *Service {
	s := &Service{
		store:    st,
		bus:      bus,
		signer:   signer,
		sealer:   sealer,
		now:      time.Now,
		log:      slog.Default(),
		params:   identity.DefaultPasswordParams(),
		tokenTTL: DefaultNodeTokenTTL,
		buffer:   DefaultStreamBuffer,
		flushDur: 30 * time.Second,
		byNetID:  map[string]*netState{},
		locks:    lockout.New(nodeLocks),
		byID:     map[int64]*netState{},
		netTombs: map[int64]time.Time{},
		watching: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.pw = newNodePasswords(s.params, s.pwKey)
	if bus != nil {
		s.origin = bus.Origin()
	}
	return s
}

// Start subscribes to the other replicas' changes, then loads every network
// and node, so nothing committed meanwhile is missed (applying a change
// twice is harmless: revisions decide).
func (s *Service) Start(ctx context.Context) error {
	if s.bus != nil {
		s.sub = s.bus.Subscribe(TopicNetwork, TopicNode)
		go s.watch()
	} else {
		close(s.watching)
	}
	if err := s.reload(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.loadedAt = s.now()
	s.mu.Unlock()
	return nil
}

// Close stops following events and ends every stream with EndShutdown. It
// does not flush check-ins: cancel Run's context first.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		if s.sub != nil {
			s.sub.Close()
		}
		<-s.watching
		s.mu.Lock()
		s.closed = true
		states := make([]*netState, 0, len(s.byID))
		for _, st := range s.byID {
			states = append(states, st)
		}
		s.mu.Unlock()
		for _, st := range states {
			st.mu.Lock()
			st.endAll(EndShutdown)
			st.mu.Unlock()
		}
	})
}

// The event topics the service publishes and follows.
const (
	TopicNetwork = "network"
	TopicNode    = "node"
)

// publish announces a committed change. It already committed, so a failure
// is logged: other replicas catch up at their next resync.
func (s *Service) publish(ctx context.Context, topic, action string, groupID, id int64, data any) {
	if s.bus == nil {
		return
	}
	e := event.Event{Topic: topic, Action: action, GroupID: groupID, ID: strconv.FormatInt(id, 10)}
	if data != nil {
		b, err := json.Marshal(data)
		if err == nil {
			e.Data = b
		}
	}
	if err := s.bus.Publish(ctx, e); err != nil {
		s.log.Warn("publishing mesh event", "topic", topic, "action", action, "id", id, "error", err)
	}
}

// stamp is the service's current time as stored: UTC, microseconds.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// state returns the network state by NetID, or nil.
func (s *Service) state(netid string) *netState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byNetID[netid]
}

func (s *Service) stateByID(id int64) *netState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[id]
}

// states returns every network state, in no order.
func (s *Service) states() []*netState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*netState, 0, len(s.byID))
	for _, st := range s.byID {
		out = append(out, st)
	}
	return out
}

var errUnavailable = fault.New(fault.Unavailable, "the mesh service is not running")
