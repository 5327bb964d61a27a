package store

import (
	"context"
	"strconv"
	"strings"

	"netkeep/internal/activity"
	"netkeep/internal/audit"
)

// activityWhere is the filter of the activity feed over audit_log: the
// group ($1, -1 for every group) and the listed actions ($2 ...). It
// returns the clause and its arguments.
func activityWhere(q activity.Query) (string, []any) {
	var gid int64 = -1
	if q.GroupID != nil {
		gid = *q.GroupID
	}
	var b strings.Builder
	b.WriteString(`(CAST($1 AS BIGINT) = -1 OR group_id = $1) AND action IN (`)
	args := make([]any, 0, len(q.Actions)+3)
	args = append(args, gid)
	for i, a := range q.Actions {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("$" + strconv.Itoa(i+2))
		args = append(args, a)
	}
	b.WriteByte(')')
	return b.String(), args
}

// ListActivity returns the audit entries of q's actions, newest first
// (implements activity.Tx).
func (tx *Tx) ListActivity(ctx context.Context, q activity.Query) ([]audit.Entry, error) {
	if len(q.Actions) == 0 {
		return nil, nil
	}
	where, args := activityWhere(q)
	n := len(args)
	rows, err := tx.q.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+where+
		` ORDER BY id DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, wrap(err, "listing activity")
	}
	return scanAudit(rows, "listing activity")
}

// CountActivity counts the entries ListActivity pages through, up to
// q.MaxCount (implements activity.Tx).
func (tx *Tx) CountActivity(ctx context.Context, q activity.Query) (int, error) {
	if len(q.Actions) == 0 {
		return 0, nil
	}
	where, args := activityWhere(q)
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM audit_log WHERE `+where+
		` LIMIT $`+strconv.Itoa(len(args)+1)+`) AS feed`, append(args, q.MaxCount)...).Scan(&n)
	return n, wrap(err, "counting activity")
}
