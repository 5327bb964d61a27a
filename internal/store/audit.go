package store

import (
	"context"
	"database/sql"
	"strings"

	"netkeep/internal/audit"
)

// InsertAudit appends e (implements audit.Writer).
func (tx *Tx) InsertAudit(ctx context.Context, e *audit.Entry) error {
	var gid any
	if e.GroupID != 0 {
		gid = e.GroupID
	}
	return tx.q.QueryRowContext(ctx, `INSERT INTO audit_log
		(group_id, actor, action, target, details, ip, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		gid, e.Actor, e.Action, e.Target, e.Details, e.IP, e.Time.UTC()).Scan(&e.ID)
}

// InsertAudits inserts es with multi-row INSERTs (as many rows per
// statement as fit); it does not set their IDs.
func (tx *Tx) InsertAudits(ctx context.Context, es []*audit.Entry) error {
	const cols = 7
	chunk := tx.batchRows(cols)
	for start := 0; start < len(es); start += chunk {
		part := es[start:min(len(es), start+chunk)]
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_log (group_id, actor, action, target, details, ip, created_at) VALUES `)
		args := make([]any, 0, len(part)*cols)
		for i, e := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			tx.placeholders(&b, i*cols, cols)
			var gid any
			if e.GroupID != 0 {
				gid = e.GroupID
			}
			args = append(args, gid, e.Actor, e.Action, e.Target, e.Details, e.IP, e.Time.UTC())
		}
		if _, err := tx.q.ExecContext(ctx, b.String(), args...); err != nil {
			return wrap(err, "inserting audits")
		}
	}
	return nil
}

// auditFilter is the WHERE clause of q's filters over $1 to $3
// (auditFilterArgs): ListAudit and CountAudit select the same entries.
const auditFilter = `WHERE (CAST($1 AS BIGINT) = -1 OR group_id = $1) AND ($2 = '' OR action = $2)
	AND ($3 = '' OR actor = $3 OR actor = 'user:' || $3 OR actor = 'device:' || $3)`

func auditFilterArgs(q audit.Query) []any {
	var gid int64 = -1
	if q.GroupID != nil {
		gid = *q.GroupID
	}
	return []any{gid, q.Action, q.Actor}
}

// ListAudit returns entries newest first, filtered by q.
func (tx *Tx) ListAudit(ctx context.Context, q audit.Query) ([]audit.Entry, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log `+auditFilter+`
		ORDER BY id DESC LIMIT $4 OFFSET $5`, append(auditFilterArgs(q), q.Limit, q.Offset)...)
	if err != nil {
		return nil, wrap(err, "listing audit")
	}
	return scanAudit(rows, "listing audit")
}

// CountAudit counts the entries q's filters select, whatever its limit and
// offset.
func (tx *Tx) CountAudit(ctx context.Context, q audit.Query) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log `+auditFilter, auditFilterArgs(q)...).Scan(&n)
	return n, wrap(err, "counting audit")
}

// auditColumns are the columns scanAudit reads, in its order.
const auditColumns = `id, COALESCE(group_id, 0), actor, action, target, details, ip, created_at`

// scanAudit reads and closes rows of auditColumns; op names the query in
// errors.
func scanAudit(rows *sql.Rows, op string) ([]audit.Entry, error) {
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var t sql.NullTime
		if err := rows.Scan(&e.ID, &e.GroupID, &e.Actor, &e.Action, &e.Target, &e.Details, &e.IP, &t); err != nil {
			return nil, wrap(err, op)
		}
		e.Time = t.Time.UTC()
		out = append(out, e)
	}
	return out, wrap(rows.Err(), op)
}
