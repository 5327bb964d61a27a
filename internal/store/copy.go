package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"netkeep/internal/config"
	"netkeep/internal/psk"
)

// Bulk writes through PostgreSQL's COPY: a COPY statement in the
// transaction carries any number of rows in PostgreSQL's binary format,
// with none of a multi-row INSERT's parameters to bind and plan, and
// fails (a unique or foreign key violation) as the INSERT would, leaving
// the transaction to roll back.

// copies reports whether tx writes bulk rows with COPY.
func (tx *Tx) copies() bool { return tx.conn != nil }

// copyFrom writes rows into table's columns with COPY, inside tx.
func (tx *Tx) copyFrom(ctx context.Context, table string, columns []string, rows [][]any) error {
	return tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("COPY needs a pgx connection")
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		return err
	})
}

// copyPSKs inserts rows pending in import pending with COPY and sets their
// IDs, drawn from the table's identity sequence first since COPY returns
// nothing.
func (tx *Tx) copyPSKs(ctx context.Context, rows []*psk.Row, pending any) error {
	ids, err := tx.q.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('psks', 'id')) FROM generate_series(1, $1)`, len(rows))
	if err != nil {
		return wrap(err, "numbering PSKs")
	}
	i := 0
	for ids.Next() {
		if err := ids.Scan(&rows[i].ID); err != nil {
			ids.Close()
			return wrap(err, "numbering PSKs")
		}
		i++
	}
	if err := ids.Close(); err != nil {
		return wrap(err, "numbering PSKs")
	}
	values := make([][]any, len(rows))
	for i, r := range rows {
		values[i] = pskValues(append(make([]any, 0, 1+len(pskColumnsIn)), r.ID), r, pending)
	}
	err = tx.copyFrom(ctx, "psks", append([]string{"id"}, pskColumnsIn...), values)
	return groupMissing(classify(err, "", "a PSK with this psk_id already exists"))
}

// copyEndpoints inserts es pending in import pending with COPY; their IDs
// are not read back.
func (tx *Tx) copyEndpoints(ctx context.Context, es []*psk.Endpoint, pending any) error {
	values := make([][]any, len(es))
	for i, e := range es {
		values[i] = endpointValues(make([]any, 0, len(endpointColumnsIn)), e, pending)
	}
	err := tx.copyFrom(ctx, "endpoints", endpointColumnsIn, values)
	return groupMissing(classify(err, "", endpointConflict))
}

// scanner is one row of a result, from database/sql or from pgx.
type scanner interface{ Scan(dest ...any) error }

// eachRow runs query and calls fn with each row. On PostgreSQL it reads
// through pgx on the transaction's connection (or one taken from the pool)
// rather than through database/sql, which boxes every column of every row
// into an interface and converts it again by reflection: for the RADIUS
// directory's scans of a million PSKs and endpoints that was most of the
// reading's CPU.
func (tx *Tx) eachRow(ctx context.Context, query string, args []any, fn func(scanner) error) error {
	if tx.kind != config.Postgres {
		rows, err := tx.q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachOf(rows, fn)
	}
	conn := tx.conn
	if conn == nil {
		pool, ok := tx.q.(*sql.DB)
		if !ok {
			return errors.New("reading rows needs a pool or a held connection")
		}
		c, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		conn = c
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("reading rows needs a pgx connection")
		}
		rows, err := c.Conn().Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachOf(rows, fn)
	})
}

// eachOf calls fn with each row of rows (database/sql's or pgx's) until
// one fails, then reports the rows' own error.
func eachOf(rows interface {
	scanner
	Next() bool
	Err() error
}, fn func(scanner) error) error {
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
