package identity

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/lockout"
	"netkeep/internal/secret"
)

// Config holds identity's settings.
type Config struct {
	AccessTTL    time.Duration // access token lifetime (1 h)
	RefreshGrace time.Duration // how long an expired access token may be refreshed
	SessionTTL   time.Duration // refresh token family lifetime (14 days)
	RememberTTL  time.Duration // with remember_me (30 days)
	WebIdle      time.Duration // browser session token lifetime, renewed while in use (12 h)
}

// DefaultConfig is the seeds' documented behaviour.
func DefaultConfig() Config {
	return Config{AccessTTL: time.Hour, RefreshGrace: 10 * time.Minute, SessionTTL: 14 * 24 * time.Hour, RememberTTL: 30 * 24 * time.Hour, WebIdle: 12 * time.Hour}
}

// Service is the identity domain: every operation validates, writes through
// one transaction with its audit entry, publishes an event after commit, and
// returns fault errors.
type Service struct {
	store    Store
	keys     *secret.Keys
	bus      event.Bus
	cfg      Config
	signer   *Signer
	params   PasswordParams
	now      func() time.Time
	log      *slog.Logger
	lock     *lockout.Lockout
	dir      *directory
	verified VerifiedTokens[*AccessClaims]
	dummyPw  string // hash checked for unknown users so timing does not reveal them
	gate     LoginGate

	defaultGroup atomic.Int64 // the default group's id, once read
}

// Option configures a Service.
type Option func(*Service)

// WithPasswordParams sets the argon2id cost (tests use a cheap one).
func WithPasswordParams(p PasswordParams) Option { return func(s *Service) { s.params = p } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger for background work.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the identity service. Call Start to follow the event bus
// (cache invalidation across replicas) and Close to stop.
func NewService(st Store, keys *secret.Keys, bus event.Bus, cfg Config, opts ...Option) *Service {
	s := &Service{store: st, keys: keys, bus: bus, cfg: cfg, params: DefaultPasswordParams(), now: time.Now, log: slog.Default(), lock: lockout.New(loginLocks)}
	for _, o := range opts {
		o(s)
	}
	s.signer = NewSigner(keys.JWTKey(), cfg.RefreshGrace, s.now)
	s.dir = newDirectory(s)
	s.dummyPw, _ = HashPassword("netkeep-dummy-password", s.params)
	return s
}

// Signer exposes the token signer (node tokens of the mesh share it).
func (s *Service) Signer() *Signer { return s.signer }

// Start loads revoked sessions and follows the bus until Close.
func (s *Service) Start(ctx context.Context) error { return s.dir.start(ctx) }

// Close stops following the bus.
func (s *Service) Close() { s.dir.close() }

// publish sends e after a commit; a failure only delays other replicas'
// caches (they resynchronise), so it is logged, not returned.
func (s *Service) publish(ctx context.Context, topic, action string, groupID int64, id string) {
	if s.bus == nil {
		return
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: topic, Action: action, GroupID: groupID, ID: id}); err != nil {
		s.log.Warn("publishing event", "topic", topic, "action", action, "err", err)
	}
}

// SetupStatus reports whether any user exists.
func (s *Service) SetupStatus(ctx context.Context) (hasUsers bool, err error) {
	n, err := s.store.Read().CountUsers(ctx)
	return n > 0, err
}

// HasSuperAdmin reports whether an active SUPER_ADMIN exists.
func (s *Service) HasSuperAdmin(ctx context.Context) (bool, error) {
	return s.store.Read().HasActiveRole(ctx, string(SuperAdmin))
}

// Setup creates the first SUPER_ADMIN in the default group. Once any user
// exists it returns conflict (setup_completed) and changes nothing, also
// under concurrent calls.
func (s *Service) Setup(ctx context.Context, src audit.Source, username, password string) (*User, error) {
	return s.createSuperAdmin(ctx, src, username, password, "", func(users int) error {
		if users > 0 {
			return errSetupCompleted
		}
		return nil
	})
}

var errSetupCompleted = fault.New(fault.Conflict, "setup has already been completed").WithReason(ReasonSetupCompleted)

// CreateSuperAdmin creates a SUPER_ADMIN in the default group (Netmaker's
// createadmin, netkeep admin create). On a server without users it is the
// first-run setup and p may be nil; afterwards p must be a super principal
// allowed users:write. Errors: unauthorized (no principal once a user
// exists), forbidden, invalid (a field, named in details), conflict (the
// username or email is taken).
func (s *Service) CreateSuperAdmin(ctx context.Context, p *authz.Principal, src audit.Source, username, password, email string) (*User, error) {
	return s.createSuperAdmin(ctx, src, username, password, email, mayCreateSuperAdmin(p))
}

// MayCreateSuperAdmin answers, before a request is even read, whether p
// could create a SUPER_ADMIN now (CreateSuperAdmin checks again).
func (s *Service) MayCreateSuperAdmin(ctx context.Context, p *authz.Principal) error {
	n, err := s.store.Read().CountUsers(ctx)
	if err != nil {
		return err
	}
	return mayCreateSuperAdmin(p)(n)
}

// mayCreateSuperAdmin is CreateSuperAdmin's rule given the number of users:
// anyone on an empty server, afterwards a super principal with users:write.
func mayCreateSuperAdmin(p *authz.Principal) func(users int) error {
	return func(users int) error {
		switch {
		case users == 0:
			return nil
		case p == nil:
			return fault.New(fault.Unauthorized, "an administrator exists; authentication required")
		}
		if err := authz.Allow(p, "users:write", authz.Any); err != nil {
			return err
		}
		if !p.IsSuper() {
			return fault.New(fault.Forbidden, "only a SUPER_ADMIN can create an admin")
		}
		return nil
	}
}

// createSuperAdmin validates, then, under the setup lock, lets authorize
// decide given the number of users, and creates the user.
func (s *Service) createSuperAdmin(ctx context.Context, src audit.Source, username, password, email string, authorize func(users int) error) (*User, error) {
	username = strings.TrimSpace(username)
	if err := ValidateUsername(username); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	if email != "" {
		if err := ValidateEmail(email); err != nil {
			return nil, err
		}
	}
	// Refused early, before the costly hash, and again under the lock.
	n, err := s.store.Read().CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if err := authorize(n); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, s.params)
	if err != nil {
		return nil, err
	}
	u := &User{Username: username, Email: email, Role: SuperAdmin, PasswordHash: hash, IsActive: true}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.LockScope(ctx, lockSetup); err != nil {
			return err
		}
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if err = authorize(n); err != nil {
			return err
		}
		g, err := tx.GroupByName(ctx, DefaultGroupName)
		if err != nil {
			return fmt.Errorf("reading the default group: %w", err)
		}
		u.GroupID, u.GroupName = g.ID, g.Name
		if err := tx.CreateUser(ctx, u); err != nil {
			if fault.Is(err, fault.Conflict) {
				return s.userConflict(ctx, username)
			}
			return err
		}
		return audit.Record(ctx, tx, src, g.ID, "user.create", userTarget(u.ID), map[string]any{"username": u.Username, "role": u.Role})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "user", "created", u.GroupID, fmt.Sprint(u.ID))
	return u, nil
}

func userTarget(id int64) string  { return fmt.Sprintf("user:%d", id) }
func groupTarget(id int64) string { return fmt.Sprintf("group:%d", id) }

// userConflict explains a unique violation on users: the username or the
// email is taken. It reads outside the failed transaction (PostgreSQL aborts
// a transaction after a violation).
func (s *Service) userConflict(ctx context.Context, username string) error {
	if u, err := s.store.Read().UserByLogin(ctx, username); err == nil && strings.EqualFold(u.Username, username) {
		return fault.Errorf(fault.Conflict, "user %q already exists", username).WithReason(ReasonUserExists).WithDetails(field("username"))
	}
	return fault.New(fault.Conflict, "a user with this email already exists").WithReason(ReasonUserExists).WithDetails(field("email"))
}
