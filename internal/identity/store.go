package identity

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// Store is identity's view of persistence. Methods return fault errors:
// not_found for missing rows, conflict for duplicate names.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over identity's tables.
type Tx interface {
	audit.Writer
	ListAudit(ctx context.Context, q audit.Query) ([]audit.Entry, error)
	CountAudit(ctx context.Context, q audit.Query) (int, error)
	LockScope(ctx context.Context, key int64) error

	CreateGroup(ctx context.Context, g *Group) error
	GroupByID(ctx context.Context, id int64) (*Group, error)
	GroupByName(ctx context.Context, name string) (*Group, error)
	ListGroups(ctx context.Context) ([]Group, error)
	RenameGroup(ctx context.Context, id int64, name string) error
	DeleteGroup(ctx context.Context, id int64) error

	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByLogin(ctx context.Context, login string) (*User, error)
	ListUsers(ctx context.Context, groupID int64) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	HasActiveRole(ctx context.Context, role string) (bool, error)
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, id int64) error

	CreateSession(ctx context.Context, s *Session) error
	SessionByID(ctx context.Context, id string) (*Session, error)
	RevokeSession(ctx context.Context, id, reason string, at time.Time) (bool, error)
	RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) ([]string, error)
	RevokedSessionsSince(ctx context.Context, since time.Time) ([]string, error)
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	UseRefreshToken(ctx context.Context, hash string, at time.Time) (bool, error)
}

// lockSetup serialises first-user setup across replicas.
const lockSetup = 0x6e6b7375 // "nksu"
