package store

import (
	"context"

	"netkeep/internal/config"
)

// LockScope takes a transaction-scoped lock named by key, serialising
// check-then-act sequences (e.g. "first user" setup) across replicas. On
// SQLite the single writer connection already serialises transactions.
func (tx *Tx) LockScope(ctx context.Context, key int64) error {
	if tx.kind != config.Postgres {
		return nil
	}
	_, err := tx.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return wrap(err, "locking scope")
}
