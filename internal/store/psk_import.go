package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// Staged imports (psk_imports, psk_import_rows, psk_import_macs): rows are
// written there in short transactions and moved into psks and endpoints by
// PromoteImport in one. Nothing else reads the staging tables.

const importNotFound = "import not found"

// BeginImport records a pending import into groupID and returns its id.
func (tx *Tx) BeginImport(ctx context.Context, groupID int64, at time.Time) (int64, error) {
	var id int64
	err := tx.q.QueryRowContext(ctx, `INSERT INTO psk_imports (group_id, staged, started_at, touched_at)
		VALUES ($1, 0, $2, $2) RETURNING id`, groupID, at.UTC()).Scan(&id)
	return id, err
}

// StageImport adds rows and their MACs to import id and marks it touched at.
func (tx *Tx) StageImport(ctx context.Context, id int64, rows []psk.StagedRow, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE psk_imports SET staged = staged + $1, touched_at = $2 WHERE id = $3`,
		len(rows), at.UTC(), id)
	if err != nil {
		return err
	}
	if err := mustAffect(res, importNotFound); err != nil {
		return err
	}
	err = tx.insertMulti(ctx, `INSERT INTO psk_import_rows (import_id, seq, psk_id, passphrase, seal_id, description,
		vlan_id, enabled, expires_at, created_by, created_at, updated_at) VALUES `, 12, len(rows), func(i int) []any {
		r := rows[i].Row
		return []any{id, rows[i].Seq, r.PSKID, r.Sealed, r.SealID, r.Description, nullInt(r.VLANID), r.Enabled,
			nullable(r.Expires), r.CreatedBy, r.CreatedAt.UTC(), r.UpdatedAt.UTC()}
	})
	if err != nil {
		return fmt.Errorf("staging PSKs: %w", err)
	}
	type mac struct {
		seq int64
		pos int
		mac string
	}
	var macs []mac
	for _, r := range rows {
		for pos, m := range r.MACs {
			macs = append(macs, mac{r.Seq, pos, m})
		}
	}
	err = tx.insertMulti(ctx, `INSERT INTO psk_import_macs (import_id, seq, pos, mac) VALUES `, 4, len(macs), func(i int) []any {
		return []any{id, macs[i].seq, macs[i].pos, macs[i].mac}
	})
	if err != nil {
		return fmt.Errorf("staging MACs: %w", err)
	}
	return nil
}

// insertMulti runs head (ending in "VALUES ") for n rows of cols values
// each, as many rows per statement as batchRows allows.
func (tx *Tx) insertMulti(ctx context.Context, head string, cols, n int, row func(i int) []any) error {
	per := tx.batchRows(cols)
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			tx.placeholders(&b, len(args), cols)
			args = append(args, row(i)...)
		}
		if _, err := tx.q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// PromoteImport moves import id's staged rows into psks (in upload order)
// and its MACs into endpoints of the new PSKs (enabled, created with their
// PSK), and marks the import touched at. It
// is the one statement pair that makes an import visible, so it runs in
// the caller's transaction with the import's audit entry. A psk_id or MAC
// taken meanwhile is a conflict (psk_id_exists, endpoint_exists), a deleted
// group invalid, and staged rows missing (the import was dropped as stale
// while it ran) an internal error; the caller's rollback then leaves
// nothing behind.
func (tx *Tx) PromoteImport(ctx context.Context, id int64, at time.Time) (*psk.Promoted, error) {
	var group, staged int64
	err := tx.q.QueryRowContext(ctx, `UPDATE psk_imports SET touched_at = $1 WHERE id = $2 RETURNING group_id, staged`,
		at.UTC(), id).Scan(&group, &staged)
	if err != nil {
		return nil, classify(err, importNotFound, "")
	}
	// No literals or untyped parameters in the select lists: PostgreSQL
	// would type them text. Columns left out take their defaults.
	rows, err := tx.q.QueryContext(ctx, `INSERT INTO psks (group_id, psk_id, passphrase, seal_id, description, vlan_id,
			enabled, expires_at, created_by, created_at, updated_at)
		SELECT CAST($1 AS BIGINT), psk_id, passphrase, seal_id, description, vlan_id, enabled, expires_at, created_by,
			created_at, updated_at
		FROM psk_import_rows WHERE import_id = $2 ORDER BY seq
		RETURNING id`, group, id)
	if err != nil {
		return nil, promoteErr(err, psk.ReasonPSKIDExists)
	}
	out := &psk.Promoted{GroupID: group}
	for rows.Next() {
		var pid int64
		if err := rows.Scan(&pid); err != nil {
			rows.Close()
			return nil, err
		}
		if out.PSKs == 0 || pid < out.FirstID {
			out.FirstID = pid
		}
		out.LastID = max(out.LastID, pid)
		out.PSKs++
	}
	if err := rows.Close(); err != nil {
		return nil, promoteErr(err, psk.ReasonPSKIDExists)
	}
	if err := rows.Err(); err != nil {
		return nil, promoteErr(err, psk.ReasonPSKIDExists)
	}
	if int64(out.PSKs) != staged {
		return nil, fmt.Errorf("import %d: %d of %d staged rows left to move", id, out.PSKs, staged)
	}
	// Endpoints are created with their PSK's stamp; description, VLAN,
	// enabled and last_seen take their defaults.
	res, err := tx.q.ExecContext(ctx, `INSERT INTO endpoints (group_id, mac, psk_id, created_at, updated_at)
		SELECT p.group_id, m.mac, p.id, r.created_at, r.created_at
		FROM psk_import_macs m
		JOIN psk_import_rows r ON r.import_id = m.import_id AND r.seq = m.seq
		JOIN psks p ON p.group_id = $1 AND p.psk_id = r.psk_id
		WHERE m.import_id = $2 ORDER BY m.seq, m.pos`, group, id)
	if err != nil {
		return nil, promoteErr(err, psk.ReasonEndpointExists)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	out.Endpoints = int(n)
	if err := tx.addPSKCount(ctx, group, int64(out.PSKs)); err != nil {
		return nil, err
	}
	return out, nil
}

// promoteErr classifies a failed move: a uniqueness violation is the
// conflict reason names, a missing group invalid.
func promoteErr(err error, reason fault.Reason) error {
	if isUniqueViolation(err) {
		msg := "a PSK with a psk_id of this import was created meanwhile; retry"
		if reason == psk.ReasonEndpointExists {
			msg = "an endpoint with a MAC address of this import was created meanwhile; retry"
		}
		return fault.New(fault.Conflict, msg).WithReason(reason).Wrap(err)
	}
	return groupMissing(err)
}

// DropImport deletes up to limit of import id's staged rows (lowest seq
// first) with their MACs, and the import itself once none remain; it
// reports whether rows remain.
func (tx *Tx) DropImport(ctx context.Context, id int64, limit int) (bool, error) {
	var lo *int64
	if err := tx.q.QueryRowContext(ctx, `SELECT MIN(seq) FROM psk_import_rows WHERE import_id = $1`, id).Scan(&lo); err != nil {
		return false, err
	}
	if lo == nil {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM psk_import_macs WHERE import_id = $1`, id); err != nil {
			return false, err
		}
		_, err := tx.q.ExecContext(ctx, `DELETE FROM psk_imports WHERE id = $1`, id)
		return false, err
	}
	below := *lo + int64(limit)
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM psk_import_macs WHERE import_id = $1 AND seq < $2`, id, below); err != nil {
		return false, err
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM psk_import_rows WHERE import_id = $1 AND seq < $2`, id, below); err != nil {
		return false, err
	}
	return true, nil
}

// StaleImports returns the imports last touched before before.
func (tx *Tx) StaleImports(ctx context.Context, before time.Time) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id FROM psk_imports WHERE touched_at < $1 ORDER BY id`, before.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
