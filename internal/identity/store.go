package identity

import (
	"context"

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
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, id int64) error
}

// lockSetup serialises first-user setup across replicas.
const lockSetup = 0x6e6b7375 // "nksu"
