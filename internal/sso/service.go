package sso

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
)

// Config holds sso's settings.
type Config struct {
	AuthRequestTTL time.Duration // how long a user has to sign in and consent (10 min)
	CodeTTL        time.Duration // an authorization code's life (60 s)
	AccessTTL      time.Duration // OAuth2 access tokens and id_tokens (1 h)
	GrantTTL       time.Duration // a grant (refresh token family) at most (30 days)
	KeyRotation    time.Duration // a signing key signs this long (24 h)
}

// DefaultConfig is the documented behaviour.
func DefaultConfig() Config {
	return Config{AuthRequestTTL: 10 * time.Minute, CodeTTL: time.Minute, AccessTTL: time.Hour,
		GrantTTL: 30 * 24 * time.Hour, KeyRotation: 24 * time.Hour}
}

// Sessions is what sso needs of identity: sessions opened by a provider's
// word or a user's consent, ended, and checked.
type Sessions interface {
	StartExternalSession(ctx context.Context, src audit.Source, userID int64, method string) (*identity.LoginResult, error)
	StartGrant(ctx context.Context, src audit.Source, userID int64, clientID string, ttl time.Duration) (string, time.Time, error)
	EndSession(ctx context.Context, src audit.Source, sessionID, reason string) error
	SessionPrincipal(ctx context.Context, userID int64, sessionID string) (*authz.Principal, error)
}

// Service is the sso domain.
type Service struct {
	store    Store
	keys     *secret.Keys
	sessions Sessions
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	publish  func(ctx context.Context, topic, action string, groupID int64, id string)

	signing  sync.Mutex
	keyCache keyCache

	clientMu sync.Mutex
	clients  map[string]cachedClient
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithPublisher sets how user changes (a user provisioned just in time) are
// announced after commit.
func WithPublisher(p func(ctx context.Context, topic, action string, groupID int64, id string)) Option {
	return func(s *Service) { s.publish = p }
}

// NewService returns the sso service.
func NewService(st Store, keys *secret.Keys, sessions Sessions, cfg Config, opts ...Option) *Service {
	s := &Service{store: st, keys: keys, sessions: sessions, cfg: cfg, now: time.Now, log: slog.Default(),
		publish: func(context.Context, string, string, int64, string) {}, clients: map[string]cachedClient{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config returns the settings the service runs with.
func (s *Service) Config() Config { return s.cfg }

// Now is the service's clock (the protocol layer stamps tokens with it).
func (s *Service) Now() time.Time { return s.now() }
