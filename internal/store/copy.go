package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

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
