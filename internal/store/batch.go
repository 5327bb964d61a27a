package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"netkeep/internal/config"
)

// sqliteBatchParams is how many parameters one multi-row statement carries
// on SQLite. modernc binds each parameter with a linear search over the
// arguments, so a statement's binding is quadratic in its parameters,
// while each statement also has a fixed cost to run. With the statement
// prepared once per transaction (prepared), 130 to 480 cost the same
// (BenchmarkImport in internal/psk); 60 costs a fifth more per row, and
// 12,000 unprepared cost eight times more.
const sqliteBatchParams = 200

// batchRows is how many rows of cols columns one multi-row statement
// carries. PostgreSQL allows 65535 parameters.
func (tx *Tx) batchRows(cols int) int {
	if tx.kind == config.Postgres {
		return 30000 / cols
	}
	return max(1, sqliteBatchParams/cols)
}

// placeholders writes "($n+1,...,$n+k)" to b; on SQLite "(?,...,?)", since
// both SQLite's parser and modernc's binding look "$N" names up linearly,
// which makes large multi-row statements quadratic.
func (tx *Tx) placeholders(b *strings.Builder, n, k int) {
	b.WriteByte('(')
	for j := 1; j <= k; j++ {
		if j > 1 {
			b.WriteByte(',')
		}
		if tx.kind != config.Postgres {
			b.WriteByte('?')
			continue
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n + j))
	}
	b.WriteByte(')')
}

// prepared returns query prepared once for the life of the transaction
// on SQLite (database/sql closes it at commit or rollback), where parsing
// a multi-row statement costs as much as binding it. It returns nil on
// PostgreSQL, whose pgx driver already caches prepared statements by
// their text, and for the read pool, whose statements would outlive any
// caller: run those with tx.q.
func (tx *Tx) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	p, ok := tx.q.(*sql.Tx)
	if !ok || tx.kind == config.Postgres {
		return nil, nil
	}
	if st := tx.stmts[query]; st != nil {
		return st, nil
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = st
	return st, nil
}

// multiRow is one multi-row INSERT: head is "INSERT INTO t (columns)
// VALUES ", tail what follows the rows (" RETURNING ..."), cols the number
// of columns.
type multiRow struct {
	head, tail string
	cols       int
}

func newMultiRow(table string, columns []string, tail string) multiRow {
	return multiRow{head: "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ", tail: tail, cols: len(columns)}
}

// insert runs m over n rows, as many per statement as batchRows allows,
// each statement prepared once per transaction; values appends row i's
// values to args, and scan reads each returned row when m has a tail.
// Errors are the driver's, unclassified.
func (tx *Tx) insert(ctx context.Context, m multiRow, n int, values func(i int, args []any) []any, scan func(*sql.Rows) error) error {
	per := tx.batchRows(m.cols)
	args := make([]any, 0, min(n, per)*m.cols)
	var text string // the statement of per rows, built once
	for start := 0; start < n; start += per {
		k := min(n-start, per)
		q := text
		if k < per || q == "" {
			var b strings.Builder
			b.WriteString(m.head)
			for i := range k {
				if i > 0 {
					b.WriteByte(',')
				}
				tx.placeholders(&b, i*m.cols, m.cols)
			}
			b.WriteString(m.tail)
			if q = b.String(); k == per {
				text = q
			}
		}
		args = args[:0]
		for i := start; i < start+k; i++ {
			args = values(i, args)
		}
		if err := tx.insertChunk(ctx, q, args, scan); err != nil {
			return err
		}
	}
	return nil
}

// execPrepared runs q, prepared once per transaction when tx is one.
func (tx *Tx) execPrepared(ctx context.Context, q string, args []any) error {
	st, err := tx.prepared(ctx, q)
	if err != nil {
		return err
	}
	if st != nil {
		_, err = st.ExecContext(ctx, args...)
	} else {
		_, err = tx.q.ExecContext(ctx, q, args...)
	}
	return err
}

func (tx *Tx) insertChunk(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	st, err := tx.prepared(ctx, q)
	if err != nil {
		return err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.q.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := scan(rows); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}
