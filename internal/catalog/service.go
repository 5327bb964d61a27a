package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/event"
)

// Service is the catalog. It is safe for concurrent use. The store is the
// source of truth; the route table the proxy reads is a snapshot of it,
// rebuilt after every change of this replica and on every app event of
// another (the bus crosses replicas), so a lookup never touches the
// database.
type Service struct {
	store Store
	bus   event.Bus
	now   func() time.Time
	log   *slog.Logger

	table atomic.Pointer[routeTable]
	// reload serialises table rebuilds so an older snapshot never
	// replaces a newer one.
	reload sync.Mutex

	health   *healthBoard
	icons    IconFetcher
	iconLock sync.Mutex

	discovery discovery
	remote    remoteApps
}

// routeTable is an immutable snapshot of every app with its route.
type routeTable struct {
	byApp map[string]Entry
	local []Entry // the store's entries the table was built from
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithIconFetcher sets how favicons are fetched from upstreams.
func WithIconFetcher(f IconFetcher) Option { return func(s *Service) { s.icons = f } }

// NewService returns the catalog. bus may be nil (one process).
func NewService(st Store, bus event.Bus, opts ...Option) *Service {
	s := &Service{store: st, bus: bus, now: time.Now, log: slog.Default(), health: newHealthBoard()}
	for _, o := range opts {
		o(s)
	}
	s.table.Store(&routeTable{byApp: map[string]Entry{}})
	return s
}

// Start loads the route table and follows other replicas' changes until
// ctx ends.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Reload(ctx); err != nil {
		return err
	}
	if s.bus == nil {
		return nil
	}
	sub := s.bus.Subscribe(TopicApp, event.TopicBus)
	go func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C():
				if !ok {
					return
				}
				if e.Origin == s.bus.Origin() || e.Action == ActionHealthChange {
					continue
				}
				if err := s.Reload(ctx); err != nil && !errors.Is(err, context.Canceled) {
					s.log.Warn("reloading the route table", "error", err)
				}
			}
		}
	}()
	return nil
}

// Reload rebuilds the route table from the store.
func (s *Service) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	all, err := s.store.Read().ListApps(ctx, 0)
	if err != nil {
		return err
	}
	t := &routeTable{byApp: make(map[string]Entry, len(all)), local: all}
	s.fill(t)
	s.table.Store(t)
	return nil
}

// Lookup returns the app and route served under /apps/{appID}/, for the
// proxy: no authorization here, the proxy applies the route's own rules.
func (s *Service) Lookup(appID string) (Entry, bool) {
	e, ok := s.table.Load().byApp[appID]
	return e, ok
}

// Entries returns every app with its route from the table (health checks).
func (s *Service) Entries() []Entry {
	t := s.table.Load()
	out := make([]Entry, 0, len(t.byApp))
	for _, e := range t.byApp {
		out = append(out, e)
	}
	return out
}

// CountRoutes is how many routes the catalog serves (every group).
func (s *Service) CountRoutes() int { return len(s.table.Load().byApp) }

// CountApps is how many apps the catalog has (every group); one route each.
func (s *Service) CountApps() int { return len(s.table.Load().byApp) }

// publish announces a committed change; failures are logged, the store
// stays the truth (other replicas reload on their next event or resync).
func (s *Service) publish(ctx context.Context, topic, action string, groupID int64, id string, data any) {
	if s.bus == nil {
		return
	}
	e := event.Event{Topic: topic, Action: action, GroupID: groupID, ID: id}
	if data != nil {
		b, err := json.Marshal(data)
		if err == nil {
			e.Data = b
		}
	}
	if err := s.bus.Publish(ctx, e); err != nil {
		s.log.Warn("publishing catalog event", "topic", topic, "action", action, "id", id, "error", err)
	}
}

// stamp is the current time as stored: UTC, microseconds.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
