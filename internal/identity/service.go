package identity

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// Service is the identity domain: every operation validates, writes through
// one transaction with its audit entry, and returns fault errors.
type Service struct {
	store  Store
	params PasswordParams
	now    func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithPasswordParams sets the argon2id cost (tests use a cheap one).
func WithPasswordParams(p PasswordParams) Option { return func(s *Service) { s.params = p } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns the identity service over st.
func NewService(st Store, opts ...Option) *Service {
	s := &Service{store: st, params: DefaultPasswordParams(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ValidateUsername checks a username's shape.
func ValidateUsername(name string) error {
	if name == "" {
		return fault.New(fault.Invalid, "username is required").WithDetails(map[string]any{"field": "username"})
	}
	if len(name) > 128 {
		return fault.New(fault.Invalid, "username must be at most 128 characters").WithDetails(map[string]any{"field": "username"})
	}
	for _, c := range name {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			return fault.New(fault.Invalid, "username must not contain spaces or control characters").WithDetails(map[string]any{"field": "username"})
		}
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return fault.Errorf(fault.Invalid, "password must be at least %d characters", MinPasswordLen).WithDetails(map[string]any{"field": "password"})
	}
	if len(pw) > MaxPasswordLen {
		return fault.Errorf(fault.Invalid, "password must be at most %d characters", MaxPasswordLen).WithDetails(map[string]any{"field": "password"})
	}
	return nil
}

// SetupStatus reports whether the first administrator still has to be created.
func (s *Service) SetupStatus(ctx context.Context) (hasUsers bool, err error) {
	n, err := s.store.Read().CountUsers(ctx)
	return n > 0, err
}

// Setup creates the first SUPER_ADMIN in the default group. Once any user
// exists it returns conflict and changes nothing, also under concurrent calls.
func (s *Service) Setup(ctx context.Context, src audit.Source, username, password string) (*User, error) {
	return s.createSuperAdmin(ctx, src, username, password, "", true)
}

// CreateSuperAdmin creates a SUPER_ADMIN in the default group (netkeep admin
// create). A taken username is a conflict.
func (s *Service) CreateSuperAdmin(ctx context.Context, src audit.Source, username, password, email string) (*User, error) {
	return s.createSuperAdmin(ctx, src, username, password, email, false)
}

func (s *Service) createSuperAdmin(ctx context.Context, src audit.Source, username, password, email string, firstOnly bool) (*User, error) {
	username = strings.TrimSpace(username)
	if err := ValidateUsername(username); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
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
		if firstOnly {
			n, err := tx.CountUsers(ctx)
			if err != nil {
				return err
			}
			if n > 0 {
				return fault.New(fault.Conflict, "setup has already been completed").WithReason("SETUP_COMPLETED")
			}
		}
		g, err := tx.GroupByName(ctx, DefaultGroupName)
		if fault.Is(err, fault.NotFound) {
			g = &Group{Name: DefaultGroupName}
			if err = tx.CreateGroup(ctx, g); err == nil {
				err = audit.Record(ctx, tx, src, g.ID, "group.create", groupTarget(g.ID), map[string]any{"name": g.Name})
			}
		}
		if err != nil {
			return err
		}
		u.GroupID, u.GroupName = g.ID, g.Name
		if err := tx.CreateUser(ctx, u); err != nil {
			if fault.Is(err, fault.Conflict) {
				return fault.Errorf(fault.Conflict, "user %q already exists", username)
			}
			return err
		}
		return audit.Record(ctx, tx, src, g.ID, "user.create", userTarget(u.ID), map[string]any{"username": u.Username, "role": u.Role})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func userTarget(id int64) string  { return fmt.Sprintf("user:%d", id) }
func groupTarget(id int64) string { return fmt.Sprintf("group:%d", id) }
