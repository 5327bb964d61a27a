package store

import (
	"context"
	"fmt"
)

// Bound presents a DB to a domain package through that package's own
// transaction interface T (which *Tx implements), so domain packages declare
// what they need without importing store.
type Bound[T any] struct{ db *DB }

// For binds db to the domain transaction interface T. It panics at wiring
// time if *Tx does not implement T.
func For[T any](db *DB) Bound[T] {
	if _, ok := any(&Tx{}).(T); !ok {
		var zero *T
		panic(fmt.Sprintf("store.Tx does not implement %T", zero))
	}
	return Bound[T]{db: db}
}

// InTx runs fn in one write transaction (see DB.InTx).
func (b Bound[T]) InTx(ctx context.Context, fn func(T) error) error {
	return b.db.InTx(ctx, func(tx *Tx) error { return fn(any(tx).(T)) })
}

// Read returns T over the read pool, for lookups outside a transaction.
func (b Bound[T]) Read() T { return any(b.db.Read()).(T) }

// Holds reports whether Hold is available (see DB.Holds).
func (b Bound[T]) Holds() bool { return b.db.Holds() }

// Hold begins a write transaction held open across calls (see DB.Hold).
func (b Bound[T]) Hold(ctx context.Context) (T, func(error) error, error) {
	tx, end, err := b.db.Hold(ctx)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return any(tx).(T), end, nil
}
