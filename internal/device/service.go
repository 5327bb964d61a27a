package device

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
)

// Lifetimes Nekzus documents.
const (
	CodeTTL      = 5 * time.Minute  // a pairing code
	BootstrapTTL = 5 * time.Minute  // a bootstrap token
	TokenTTL     = 12 * time.Hour   // a device token (expiresIn 43200)
	MaxFailures  = 5                // failed redemptions that lock the live codes
	touchEvery   = 30 * time.Second // how often a device's last use is written
)

// Topic is the event topic of device changes; Actions are "paired",
// "updated" and "revoked". The event's ID is the device id.
const Topic = "device"

// UserLookup reports a user's current state (identity implements it behind
// its cache): a device acts with the current role of the user who paired
// it, and dies with that user's access. It returns not_found for a deleted
// user.
type UserLookup interface {
	UserState(ctx context.Context, userID int64) (role authz.Role, groupID int64, username string, active bool, err error)
}

// Config holds the device domain's settings.
type Config struct {
	// RefreshGrace is how long after expiry a device token may still be
	// renewed (the same grace as users' tokens).
	RefreshGrace time.Duration
	// Info describes the server to pairing devices.
	Info Info
}

// Service is the device domain. It is safe for concurrent use.
type Service struct {
	store    Store
	keys     *secret.Keys
	bus      event.Bus
	users    UserLookup
	cfg      Config
	signer   *identity.Signer
	now      func() time.Time
	log      *slog.Logger
	registry *Registry
	verified identity.VerifiedTokens[*claims]
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the service. Call Start to follow the event bus and
// Close to stop.
func NewService(st Store, keys *secret.Keys, bus event.Bus, users UserLookup, cfg Config, opts ...Option) *Service {
	s := &Service{store: st, keys: keys, bus: bus, users: users, cfg: cfg, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.signer = identity.NewSigner(keys.JWTKey(), cfg.RefreshGrace, s.now)
	s.registry = newRegistry(st, s.now)
	return s
}

// Start follows the bus so that devices revoked or re-paired on any
// replica stop authenticating here.
func (s *Service) Start(context.Context) error {
	if s.bus != nil {
		s.registry.follow(s.bus, s.log)
	}
	return nil
}

// Close stops following the bus.
func (s *Service) Close() { s.registry.close() }

// Registry exposes the in-memory device state (tests, presence).
func (s *Service) Registry() *Registry { return s.registry }

// Info describes this server to pairing devices.
func (s *Service) Info() Info { return s.cfg.Info }

// Paired is the Data of a "paired" event: what Nekzus's device_paired
// message tells subscribers besides the id.
type Paired struct {
	DeviceName string `json:"deviceName"`
	Platform   string `json:"platform"`
}

// publish announces a committed change, with data (nil: none); a failure
// only delays other replicas (their cache entries also expire), so it is
// logged.
func (s *Service) publish(ctx context.Context, action string, groupID int64, id string, data any) {
	if s.bus == nil {
		return
	}
	var raw json.RawMessage
	if data != nil {
		raw, _ = json.Marshal(data) // Paired always marshals
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: Topic, Action: action, GroupID: groupID, ID: id, Data: raw}); err != nil {
		s.log.Warn("publishing device event", "action", action, "device", id, "err", err)
	}
}
