package psk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/secret"
)

// Service is the PSK domain. Every change validates, writes the store and
// its audit entries in one transaction, and publishes events after the
// commit. It is safe for concurrent use.
type Service struct {
	store      Store
	keys       *secret.Keys
	bus        event.Bus
	now        func() time.Time
	log        *slog.Logger
	sweepEvery time.Duration
	sweepMu    sync.Mutex // one SweepExpired at a time per process
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithSweepInterval sets how often Run looks for newly expired PSKs.
func WithSweepInterval(d time.Duration) Option { return func(s *Service) { s.sweepEvery = d } }

// DefaultSweepInterval is Run's default period.
const DefaultSweepInterval = 30 * time.Second

// NewService returns the service. keys seal passphrases at rest; bus carries
// the "psk" and "endpoint" events.
func NewService(st Store, keys *secret.Keys, bus event.Bus, opts ...Option) *Service {
	s := &Service{store: st, keys: keys, bus: bus, now: time.Now, log: slog.Default(), sweepEvery: DefaultSweepInterval}
	for _, o := range opts {
		o(s)
	}
	return s
}

// The event topics and actions the service publishes.
const (
	TopicPSK      = "psk"
	TopicEndpoint = "endpoint"

	ActionCreated = "created"
	ActionUpdated = "updated"
	ActionDeleted = "deleted"
	ActionExpired = "expired"
	// ActionReload (topic "psk", empty ID) means many PSKs and endpoints of
	// the event's group changed at once (a large import): reload the group.
	ActionReload = "reload"
)

// maxItemEvents is the most objects an import announces one by one; beyond
// it, one reload event stands for them all.
const maxItemEvents = 1000

// seal returns p as a row with its passphrase sealed under a new seal id.
func (s *Service) seal(p *PSK) (*Row, error) {
	r := &Row{PSK: *p, SealID: newSealID()}
	sealed, err := s.keys.Seal([]byte(p.Passphrase), "psk:"+r.SealID)
	if err != nil {
		return nil, fmt.Errorf("sealing passphrase: %w", err)
	}
	r.Sealed = sealed
	r.Passphrase = ""
	return r, nil
}

// reseal replaces r's sealed passphrase with passphrase.
func (s *Service) reseal(r *Row, passphrase string) error {
	n, err := s.seal(&PSK{Passphrase: passphrase})
	if err != nil {
		return err
	}
	r.Sealed, r.SealID = n.Sealed, n.SealID
	return nil
}

// open returns r's PSK with the passphrase in clear.
func (s *Service) open(r *Row) (*PSK, error) {
	pt, err := s.keys.Open(r.Sealed, "psk:"+r.SealID)
	if err != nil {
		return nil, fmt.Errorf("opening passphrase of PSK %d: %w", r.ID, err)
	}
	p := r.PSK
	p.Passphrase = string(pt)
	return &p, nil
}

// publish announces a committed change. The change already committed, so a
// failure is logged, not returned: subscribers resynchronise from the store.
func (s *Service) publish(ctx context.Context, topic, action string, groupID, id int64, data any) {
	e := event.Event{Topic: topic, Action: action, GroupID: groupID}
	if id != 0 {
		e.ID = strconv.FormatInt(id, 10)
	}
	if data != nil {
		b, err := json.Marshal(data)
		if err == nil {
			e.Data = b
		}
	}
	if err := s.bus.Publish(ctx, e); err != nil {
		s.log.Warn("publishing event", "topic", topic, "action", action, "id", id, "error", err)
	}
}

func (s *Service) publishPSK(ctx context.Context, action string, p *PSK) {
	s.publish(ctx, TopicPSK, action, p.GroupID, p.ID, map[string]any{"psk_id": p.PSKID})
}

func (s *Service) publishEndpoint(ctx context.Context, action string, e *Endpoint) {
	s.publish(ctx, TopicEndpoint, action, e.GroupID, e.ID, map[string]any{"mac": e.MAC, "psk": e.PSKID})
}

// targetGroup is the group a new object of p goes into: requested (super
// principals only) or p's own. The master key belongs to no group, so it
// must name one.
func targetGroup(p *authz.Principal, requested int64) (int64, error) {
	if p == nil {
		return 0, fault.New(fault.Unauthorized, "authentication required")
	}
	if requested != 0 && requested != p.GroupID && !p.IsSuper() {
		return 0, invalid("group_id", "group_id must be your own group")
	}
	if requested == 0 {
		requested = p.GroupID
	}
	if requested == 0 {
		return 0, invalid("group_id", "group_id is required when acting with the master key")
	}
	return requested, nil
}

// allowPSK is authz.Allow on r; another group's PSK is PSK_NOT_FOUND.
func allowPSK(p *authz.Principal, a authz.Action, r *PSK) error {
	err := authz.Allow(p, a, authz.Resource{GroupID: r.GroupID, OwnerID: r.CreatedBy})
	if fault.Is(err, fault.NotFound) {
		return PSKNotFound(r.ID)
	}
	return err
}

// The authz actions, named like the NetKey API key scopes.
const (
	actPSKRead       authz.Action = "psks:read"
	actPSKWrite      authz.Action = "psks:write"
	actPSKDelete     authz.Action = "psks:delete"
	actEndpointRead  authz.Action = "endpoints:read"
	actEndpointWrite authz.Action = "endpoints:write"
)

func pskTarget(id int64) string      { return "psk:" + strconv.FormatInt(id, 10) }
func endpointTarget(id int64) string { return "endpoint:" + strconv.FormatInt(id, 10) }

// Now is the service's clock: the instant a PSK's Expired is judged at, as
// List's Expired filter does.
func (s *Service) Now() time.Time { return s.now() }

// stamp is the service's current time as stored: UTC, microseconds (what
// both databases keep).
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
