package nas

import (
	"context"
	"strconv"
	"time"

	"netkeep/internal/audit"
)

// Store is nas's view of persistence; internal/store binds it with
// store.For[nas.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the RADIUS client and session tables. Lookups
// return a not_found fault for a missing row.
type Tx interface {
	audit.Writer

	// CreateRadiusClient inserts c and sets its ID. An address already
	// used by another client is a conflict; an unknown group is invalid.
	CreateRadiusClient(ctx context.Context, c *Client) error
	RadiusClientByID(ctx context.Context, id int64) (*Client, error)
	// ListRadiusClients returns the clients of groupID (0: every group) by id.
	ListRadiusClients(ctx context.Context, groupID int64) ([]*Client, error)
	// UpdateRadiusClient writes every field of c but ID, GroupID and
	// CreatedAt; an address clash is a conflict.
	UpdateRadiusClient(ctx context.Context, c *Client) error
	DeleteRadiusClient(ctx context.Context, id int64) error

	// ApplyRadiusSessions applies b (see SessionBatch).
	ApplyRadiusSessions(ctx context.Context, b SessionBatch) error
	// ListRadiusSessions returns the sessions matching f updated after
	// since, most recently updated first, and how many match in all.
	ListRadiusSessions(ctx context.Context, f SessionFilter, since time.Time) ([]*Session, int, error)
}

// Sealer seals client secrets at rest; *secret.Keys implements it.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// sealContext binds a sealed secret to its row.
func sealContext(id int64) string { return "radius-client:" + itoa(id) }
