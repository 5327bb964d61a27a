package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// Pending imports (psk_imports; psks.pending, endpoints.pending): rows are
// inserted pending in short transactions and made visible together by one
// update of their import's row (see migration 00015 and visible).

const importNotFound = "import not found"

// BeginImport records a pending import into groupID and returns its id.
func (tx *Tx) BeginImport(ctx context.Context, groupID int64, at time.Time) (int64, error) {
	var id int64
	err := tx.q.QueryRowContext(ctx, `INSERT INTO psk_imports (group_id, started_at, touched_at)
		VALUES ($1, $2, $2) RETURNING id`, groupID, at.UTC()).Scan(&id)
	return id, groupMissing(err)
}

// StageImport inserts rows and their endpoints pending in import id, sets
// their IDs, and adds them to the import's counts. A psk_id or MAC taken
// meanwhile is a conflict; an import that is gone (dropped as dead) or
// already visible is not_found. On PostgreSQL the rows go in with COPY.
func (tx *Tx) StageImport(ctx context.Context, id int64, rows []psk.StagedRow, at time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	nps, nes, err := tx.insertStaged(ctx, rows, id)
	if err != nil {
		return err
	}
	first, last := rows[0].Row.ID, rows[0].Row.ID
	for _, r := range rows {
		first, last = min(first, r.Row.ID), max(last, r.Row.ID)
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE psk_imports SET psks = psks + $1, endpoints = endpoints + $2,
		first_id = COALESCE(first_id, $3), last_id = $4, touched_at = $5 WHERE id = $6 AND NOT visible`,
		nps, nes, first, last, at.UTC(), id)
	if err != nil {
		return wrap(err, "staging import", id)
	}
	return mustAffect(res, importNotFound)
}

// InsertImported inserts rows and their endpoints as they are (not
// pending), with COPY on PostgreSQL, and sets their IDs; it returns how
// many endpoints it inserted. It does not count the PSKs: CountImported
// does, once, at the end of the import's transaction, so that the group's
// counter row is locked only from then to the commit and not while the
// upload is read. Errors as StageImport's, but for not_found.
func (tx *Tx) InsertImported(ctx context.Context, rows []psk.StagedRow) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	if !tx.copies() {
		return 0, errors.New("inserting imported rows needs a PostgreSQL transaction")
	}
	_, nes, err := tx.insertStaged(ctx, rows, nil)
	return nes, err
}

// CountImported adds n PSKs written by InsertImported to groupID's count.
func (tx *Tx) CountImported(ctx context.Context, groupID int64, n int) error {
	return tx.addPSKCount(ctx, groupID, int64(n))
}

// insertStaged inserts rows and an endpoint per MAC, pending in import
// pending when not nil, with COPY on PostgreSQL; it returns how many PSKs
// and endpoints it inserted.
func (tx *Tx) insertStaged(ctx context.Context, rows []psk.StagedRow, pending any) (int, int, error) {
	ps := make([]*psk.Row, len(rows))
	var es []*psk.Endpoint
	for i, r := range rows {
		ps[i] = r.Row
	}
	insertPSKs, insertEndpoints := tx.insertPSKs, tx.insertEndpoints
	if tx.copies() {
		insertPSKs, insertEndpoints = tx.copyPSKs, tx.copyEndpoints
	}
	if err := insertPSKs(ctx, ps, pending); err != nil {
		return 0, 0, withReason(err, psk.ReasonPSKIDExists)
	}
	for _, r := range rows {
		for _, mac := range r.MACs {
			es = append(es, &psk.Endpoint{GroupID: r.Row.GroupID, MAC: mac, PSKID: r.Row.ID, Enabled: true,
				CreatedAt: r.Row.CreatedAt, UpdatedAt: r.Row.CreatedAt})
		}
	}
	if err := insertEndpoints(ctx, es, pending); err != nil {
		return 0, 0, withReason(err, psk.ReasonEndpointExists)
	}
	return len(ps), len(es), nil
}

// withReason gives a conflict fault reason.
func withReason(err error, reason fault.Reason) error {
	if fe := fault.As(err); fe != nil && fe.Code == fault.Conflict {
		return fe.WithReason(reason)
	}
	return err
}

// PromoteImport makes import id's rows visible: one row updated and the
// group's PSK count raised, whatever the import's size.
func (tx *Tx) PromoteImport(ctx context.Context, id int64, at time.Time) (*psk.Promoted, error) {
	out := &psk.Promoted{}
	var first, last *int64
	err := tx.q.QueryRowContext(ctx, `UPDATE psk_imports SET visible = TRUE, touched_at = $1 WHERE id = $2 AND NOT visible
		RETURNING group_id, psks, endpoints, first_id, last_id`, at.UTC(), id).
		Scan(&out.GroupID, &out.PSKs, &out.Endpoints, &first, &last)
	if err != nil {
		return nil, classify(err, importNotFound, "")
	}
	if first != nil {
		out.FirstID, out.LastID = *first, *last
	}
	return out, tx.addPSKCount(ctx, out.GroupID, int64(out.PSKs))
}

// SettleImport does up to limit rows of the work left of import id: for a
// visible import it clears pending on its rows (they stay visible through
// the import until then), for one that is not it deletes them (they were
// never visible); once no row is left it deletes the import's own row. It
// reports whether work remains. A hidden import's row is deleted first, so
// that it can no longer become visible with rows missing.
func (tx *Tx) SettleImport(ctx context.Context, id int64, limit int) (bool, error) {
	var shown *bool // nil: the import's row is gone
	var v bool
	switch err := tx.q.QueryRowContext(ctx, `SELECT visible FROM psk_imports WHERE id = $1`, id).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, wrap(err, "settling import", id)
	default:
		shown = &v
	}
	if shown != nil && !*shown {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM psk_imports WHERE id = $1`, id); err != nil {
			return false, wrap(err, "settling import", id)
		}
	}
	done := 0
	for _, table := range []string{"endpoints", "psks"} {
		sel := `SELECT id FROM ` + table + ` WHERE pending = $1 LIMIT $2`
		q := `DELETE FROM ` + table + ` WHERE id IN (` + sel + `)`
		if shown != nil && *shown {
			q = `UPDATE ` + table + ` SET pending = NULL WHERE id IN (` + sel + `)`
		}
		res, err := tx.q.ExecContext(ctx, q, id, limit-done)
		if err != nil {
			return false, wrap(err, "settling import", id)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, wrap(err, "settling import", id)
		}
		if done += int(n); done >= limit {
			return true, nil
		}
	}
	if shown != nil && *shown {
		_, err := tx.q.ExecContext(ctx, `DELETE FROM psk_imports WHERE id = $1`, id)
		return false, wrap(err, "settling import", id)
	}
	return false, nil
}

// ImportsToSettle returns the imports whose rows need settling: visible
// ones not yet settled, hidden ones last touched before staleBefore (their
// process died), and pending rows whose import row is gone.
func (tx *Tx) ImportsToSettle(ctx context.Context, staleBefore time.Time) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id FROM psk_imports WHERE visible OR touched_at < $1
		UNION SELECT DISTINCT pending FROM psks WHERE pending IS NOT NULL AND pending NOT IN (SELECT id FROM psk_imports)
		UNION SELECT DISTINCT pending FROM endpoints WHERE pending IS NOT NULL AND pending NOT IN (SELECT id FROM psk_imports)`,
		staleBefore.UTC())
	if err != nil {
		return nil, wrap(err, "listing imports to settle")
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "listing imports to settle")
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
