package apikey

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/ratelimit"
)

// Service is the API key domain. Every change writes the store and its audit
// entry in one transaction, then publishes an "apikey" event; Authenticate
// serves from memory. It is safe for concurrent use.
type Service struct {
	store   Store
	bus     event.Bus
	users   UserLookup
	now     func() time.Time
	log     *slog.Logger
	limiter *ratelimit.Limiter

	cacheTTL   time.Duration
	flushEvery time.Duration
	cache      *cache
	flights    flights
	flushMu    sync.Mutex // one FlushLastUsed at a time

	sub       *event.Subscription
	watching  chan struct{} // closed when the event watcher returns
	closeOnce sync.Once
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now for expiry, rate limits and last use (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported
// (publishing after a commit, background flushes). Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithFlushInterval sets how often Run writes last-use times (default 30 s);
// non-positive values keep the default.
func WithFlushInterval(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.flushEvery = d
		}
	}
}

// WithCacheTTL sets how long a cached key is trusted before it is reloaded
// (default 5 minutes). Events invalidate the cache at once; the TTL only
// bounds staleness when an event is lost, e.g. a replica's publish failed.
// Non-positive values keep the default.
func WithCacheTTL(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.cacheTTL = d
		}
	}
}

// Defaults for the options above.
const (
	DefaultFlushInterval = 30 * time.Second
	DefaultCacheTTL      = 5 * time.Minute
)

// NewService returns the service and starts watching bus for "apikey" and
// "user" events; Close stops that. A nil bus means a single process without
// events: changes made through this service still apply to its own cache at
// once, and other changes (a user's deactivation) only after the cache TTL.
func NewService(st Store, bus event.Bus, users UserLookup, opts ...Option) *Service {
	s := &Service{
		store:      st,
		bus:        bus,
		users:      users,
		now:        time.Now,
		log:        slog.Default(),
		cacheTTL:   DefaultCacheTTL,
		flushEvery: DefaultFlushInterval,
		cache:      newCache(),
		watching:   make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.limiter = ratelimit.New(s.now)
	if bus == nil {
		close(s.watching)
		return s
	}
	s.sub = bus.Subscribe(topicAPIKey, topicUser)
	go s.watch()
	return s
}

// Close stops the event watcher and waits for it. Keys cached afterwards are
// no longer invalidated by events, so close the service only at shutdown. It
// does not flush last-use times: cancel Run's context (or call FlushLastUsed)
// first.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		if s.sub != nil {
			s.sub.Close()
		}
		<-s.watching
	})
}

// publish announces a committed change. The change already committed, so a
// failure is logged, not returned: other replicas then catch up within the
// cache TTL.
func (s *Service) publish(ctx context.Context, action string, k *Key) {
	if s.bus == nil {
		return
	}
	err := s.bus.Publish(ctx, event.Event{Topic: topicAPIKey, Action: action, GroupID: k.GroupID, ID: k.ID})
	if err != nil {
		s.log.Warn("publishing API key event", "action", action, "key", k.ID, "error", err)
	}
}

// The event topics the service publishes and watches.
const (
	topicAPIKey = "apikey"
	topicUser   = "user"
)
