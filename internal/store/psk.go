package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// PSKs: the passphrase is stored only as psk.Row.Sealed; psk_counts keeps
// each group's number of PSKs and must change in every statement path that
// inserts or deletes psks rows (InsertPSKs, DeletePSK).

const pskColumns = `id, group_id, psk_id, description, vlan_id, enabled, expires_at, created_by, created_at, updated_at`

const pskRowColumns = pskColumns + `, passphrase, seal_id, expired_notified_at`

const pskNotFound = "PSK not found"

func scanPSK(row interface{ Scan(...any) error }, extra ...any) (*psk.PSK, error) {
	p := &psk.PSK{}
	var vlan sql.NullInt64
	var expires sql.NullTime
	dest := append([]any{&p.ID, &p.GroupID, &p.PSKID, &p.Description, &vlan, &p.Enabled, &expires,
		&p.CreatedBy, &p.CreatedAt, &p.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, wrap(err, "scanning PSK")
	}
	p.VLANID = intPtr(vlan)
	p.Expires = timePtr(expires)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

func scanPSKRow(row interface{ Scan(...any) error }) (*psk.Row, error) {
	r := &psk.Row{}
	var notice sql.NullTime
	p, err := scanPSK(row, &r.Sealed, &r.SealID, &notice)
	if err != nil {
		return nil, wrap(err, "scanning PSK row")
	}
	r.PSK, r.ExpiryNotice = *p, timePtr(notice)
	return r, nil
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func nullInt(v *int) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

// groupMissing turns a foreign key violation on group_id into invalid.
func groupMissing(err error) error {
	if isForeignKeyViolation(err) {
		return fault.New(fault.Invalid, "group does not exist").WithDetails(map[string]any{"field": "group_id"})
	}
	return err
}

// visible is the condition of a psks or endpoints row that exists for
// every reader: not pending, or pending in an import made visible (see
// migration 00015). Uniqueness checks (TakenPSKIDs, TakenMACs) count
// pending rows too, as the unique indexes do.
const visible = `(pending IS NULL OR pending IN (SELECT id FROM psk_imports WHERE visible))`

// InsertPSKs inserts rows with multi-row INSERTs and sets their IDs.
func (tx *Tx) InsertPSKs(ctx context.Context, rows []*psk.Row) error {
	return tx.insertPSKs(ctx, rows, nil)
}

// insertPSKs inserts rows, pending in import pending when not nil (and
// then not counted in psk_counts until the import becomes visible).
func (tx *Tx) insertPSKs(ctx context.Context, rows []*psk.Row, pending any) error {
	counts := map[int64]int64{}
	for _, r := range rows {
		counts[r.GroupID]++
	}
	// RETURNING order is not promised: match rows by (group, psk_id),
	// which is unique.
	byName := make(map[pskKey]*psk.Row, len(rows))
	for _, r := range rows {
		byName[pskKey{r.GroupID, r.PSKID}] = r
	}
	err := tx.insert(ctx, pskInsert, len(rows), func(i int, args []any) []any {
		return pskValues(args, rows[i], pending)
	}, func(res *sql.Rows) error {
		var id int64
		var k pskKey
		if err := res.Scan(&id, &k.name, &k.group); err != nil {
			return err
		}
		if r := byName[k]; r != nil {
			r.ID = id
		}
		return nil
	})
	if err != nil {
		return groupMissing(classify(err, "", "a PSK with this psk_id already exists"))
	}
	if pending != nil {
		return nil
	}
	for g, n := range counts {
		if err := tx.addPSKCount(ctx, g, n); err != nil {
			return wrap(err, "inserting PSKs")
		}
	}
	return nil
}

// pskValues appends r's values in the order of pskInsert's columns.
func pskValues(args []any, r *psk.Row, pending any) []any {
	return append(args, r.GroupID, r.PSKID, r.Sealed, r.SealID, r.Description, nullInt(r.VLANID), r.Enabled,
		nullable(r.Expires), nullable(r.ExpiryNotice), r.CreatedBy, r.CreatedAt.UTC(), r.UpdatedAt.UTC(), pending)
}

type pskKey struct {
	group int64
	name  string
}

// pskColumnsIn are the columns an insert of a PSK writes.
var pskColumnsIn = []string{"group_id", "psk_id", "passphrase", "seal_id", "description", "vlan_id", "enabled",
	"expires_at", "expired_notified_at", "created_by", "created_at", "updated_at", "pending"}

var pskInsert = newMultiRow("psks", pskColumnsIn, ` RETURNING id, psk_id, group_id`)

func (tx *Tx) addPSKCount(ctx context.Context, groupID, delta int64) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO psk_counts (group_id, n) VALUES ($1, $2)
		ON CONFLICT (group_id) DO UPDATE SET n = psk_counts.n + excluded.n`, groupID, delta)
	if err != nil {
		return fmt.Errorf("counting PSKs: %w", err)
	}
	return nil
}

// TakenPSKIDs returns which of names exist in the group.
func (tx *Tx) TakenPSKIDs(ctx context.Context, groupID int64, names []string) (map[string]bool, error) {
	return tx.taken(ctx, "psks", "psk_id", groupID, names)
}

// taken returns which of values the group's rows of table hold in column
// (a column of a unique (group_id, column) index), in chunks.
func (tx *Tx) taken(ctx context.Context, table, column string, groupID int64, values []string) (map[string]bool, error) {
	out := map[string]bool{}
	if tx.kind == config.Postgres {
		// One probe of the unique index per value, whatever the planner
		// believes of the table: the LATERAL subquery names the outer
		// value and OFFSET 0 keeps it from being pulled up, so there is
		// no plan but a nested loop. A semi-join form (IN (VALUES ...))
		// was hashed and the group's rows scanned whenever the table had
		// no statistics (never analyzed, as on a server without
		// autovacuum): 255 ms per 500 names at 245,000 rows, quadratic
		// over a 1,000,000-row import; = ANY(array) was planned the same
		// way. This form takes about 3 ms for 500 names at any size.
		q := `SELECT t.v FROM unnest(CAST($2 AS TEXT[])) AS w(v) CROSS JOIN LATERAL
			(SELECT ` + column + ` AS v FROM ` + table + ` WHERE group_id = $1 AND ` + column + ` = w.v OFFSET 0) t`
		for start := 0; start < len(values); start += takenChunk {
			if err := tx.collect(ctx, out, q, groupID, values[start:min(len(values), start+takenChunk)]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	chunk := tx.batchRows(1)
	for start := 0; start < len(values); start += chunk {
		part := values[start:min(len(values), start+chunk)]
		// IN (VALUES ...), not IN (list), which SQLite also takes.
		var b strings.Builder
		b.WriteString(`SELECT ` + column + ` FROM ` + table + ` WHERE group_id = $1 AND ` + column + ` IN (VALUES `)
		for j := range part {
			if j > 0 {
				b.WriteByte(',')
			}
			tx.placeholders(&b, 1+j, 1)
		}
		b.WriteByte(')')
		args := make([]any, 0, len(part)+1)
		args = append(args, groupID)
		for _, v := range part {
			args = append(args, v)
		}
		if err := tx.collect(ctx, out, b.String(), args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// takenChunk is how many values one PostgreSQL check sends (one array
// parameter).
const takenChunk = 10000

// collect runs q and adds the strings of its one column to out.
func (tx *Tx) collect(ctx context.Context, out map[string]bool, q string, args ...any) error {
	rows, err := tx.q.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		out[v] = true
	}
	return rows.Err()
}

// PSKRow returns the stored PSK or not_found.
func (tx *Tx) PSKRow(ctx context.Context, id int64) (*psk.Row, error) {
	r, err := scanPSKRow(tx.q.QueryRowContext(ctx, `SELECT `+pskRowColumns+` FROM psks WHERE id = $1 AND `+visible, id))
	return r, classify(err, pskNotFound, "")
}

// PSKRowByName returns the group's PSK named name or not_found.
func (tx *Tx) PSKRowByName(ctx context.Context, groupID int64, name string) (*psk.Row, error) {
	r, err := scanPSKRow(tx.q.QueryRowContext(ctx, `SELECT `+pskRowColumns+` FROM psks WHERE group_id = $1 AND psk_id = $2 AND `+visible,
		groupID, name))
	return r, classify(err, pskNotFound, "")
}

// pskWhere builds the WHERE clause of f. The group condition is left out
// for every group rather than written as "$1 = 0 OR group_id = $1", so the
// planners can use the (group_id, id) index.
func (tx *Tx) pskWhere(f psk.Filter) (string, []any) {
	var w where
	w.cond(visible)
	if f.GroupID != 0 {
		w.add("group_id = ?", f.GroupID)
	}
	if f.Enabled != nil {
		w.add("enabled = ?", *f.Enabled)
	}
	if f.VLANID != nil {
		w.add("vlan_id = ?", int64(*f.VLANID))
	}
	if f.Search != "" {
		like := tx.ilike()
		w.add("(psk_id "+like+" OR description "+like+")", likePattern(f.Search))
	}
	if f.Prefix != "" {
		w.prefix(tx.kind == config.Postgres, f.GroupID, f.Prefix)
	}
	if f.Expired != nil {
		if *f.Expired {
			w.add("(expires_at IS NOT NULL AND expires_at <= ?)", f.Now.UTC())
		} else {
			w.add("(expires_at IS NULL OR expires_at > ?)", f.Now.UTC())
		}
	}
	return w.sql(), w.args
}

// where collects AND-ed conditions; each "?" in a condition becomes the
// condition's one numbered parameter.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(w.args))))
}

// prefix adds "psk_id or description starts with p" (p in lower case,
// within group unless 0) as a subquery of two ranges over lower(column),
// which the psks_group_lower_* indexes serve; on PostgreSQL in the "C"
// collation, as those indexes are. A subquery, because as a plain OR
// SQLite's planner (without statistics) prefers walking the (group_id, id)
// index for the ORDER BY, which reads the whole group.
func (w *where) prefix(postgres bool, group int64, p string) {
	w.args = append(w.args, p, p+"\U0010FFFF")
	lo, hi := "$"+strconv.Itoa(len(w.args)-1), "$"+strconv.Itoa(len(w.args))
	inGroup := ""
	if group != 0 {
		w.args = append(w.args, group)
		inGroup = "group_id = $" + strconv.Itoa(len(w.args)) + " AND "
	}
	in := func(c string) string {
		col := "lower(" + c + ")"
		if postgres {
			col = "(lower(" + c + `) COLLATE "C")`
		}
		return "SELECT id FROM psks WHERE " + inGroup + col + " >= " + lo + " AND " + col + " < " + hi
	}
	w.cond("id IN (" + in("psk_id") + " UNION ALL " + in("description") + ")")
}

// cond adds a condition without parameters.
func (w *where) cond(c string) { w.conds = append(w.conds, c) }

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// ilike is a case-insensitive LIKE with "\" as escape and the pattern in
// the condition's parameter: SQLite's LIKE ignores ASCII case already
// (calling lower() on both sides costs a third of a search), PostgreSQL
// has ILIKE.
func (tx *Tx) ilike() string {
	if tx.kind == config.Postgres {
		return `ILIKE ? ESCAPE '\'`
	}
	return `LIKE ? ESCAPE '\'`
}

// likePattern is a case-insensitive substring pattern for s with LIKE's
// wildcards escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// ListPSKs returns a page of f's matches ordered by id.
func (tx *Tx) ListPSKs(ctx context.Context, f psk.Filter) ([]*psk.PSK, error) {
	w, args := tx.pskWhere(f)
	if f.AfterID != 0 {
		// Not part of pskWhere: the total counts every page's matches.
		args = append(args, f.AfterID)
		if w == "" {
			w = " WHERE "
		} else {
			w += " AND "
		}
		w += "id > $" + strconv.Itoa(len(args))
	}
	n := len(args)
	args = append(args, f.Limit, f.Offset)
	rows, err := tx.q.QueryContext(ctx, `SELECT `+pskColumns+` FROM psks`+w+
		` ORDER BY id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), args...)
	if err != nil {
		return nil, wrap(err, "listing PSKs")
	}
	defer rows.Close()
	out := make([]*psk.PSK, 0, f.Limit)
	for rows.Next() {
		p, err := scanPSK(rows)
		if err != nil {
			return nil, wrap(err, "listing PSKs")
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountPSKs counts f's matches, or up to f.CountUpTo of them. Unfiltered,
// it reads psk_counts (one row per group) instead of counting the group's
// rows.
func (tx *Tx) CountPSKs(ctx context.Context, f psk.Filter) (int, error) {
	var n int64
	var err error
	switch {
	case f.Unfiltered() && f.GroupID != 0:
		err = tx.q.QueryRowContext(ctx, `SELECT n FROM psk_counts WHERE group_id = $1`, f.GroupID).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
	case f.Unfiltered():
		err = tx.q.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM psk_counts`).Scan(&n)
	case f.CountUpTo > 0:
		w, args := tx.pskWhere(f)
		args = append(args, f.CountUpTo)
		err = tx.q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM psks`+w+
			` LIMIT $`+strconv.Itoa(len(args))+`) AS m`, args...).Scan(&n)
	default:
		w, args := tx.pskWhere(f)
		err = tx.q.QueryRowContext(ctx, `SELECT count(*) FROM psks`+w, args...).Scan(&n)
	}
	return int(n), err
}

// UpdatePSK writes every mutable field of r.
func (tx *Tx) UpdatePSK(ctx context.Context, r *psk.Row) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE psks SET psk_id = $1, passphrase = $2, seal_id = $3,
		description = $4, vlan_id = $5, enabled = $6, expires_at = $7, expired_notified_at = $8,
		updated_at = $9 WHERE id = $10`,
		r.PSKID, r.Sealed, r.SealID, r.Description, nullInt(r.VLANID), r.Enabled,
		nullable(r.Expires), nullable(r.ExpiryNotice), r.UpdatedAt.UTC(), r.ID)
	if err != nil {
		return classify(err, "", "a PSK with this psk_id already exists")
	}
	return mustAffect(res, pskNotFound)
}

// DeletePSK removes the PSK (its endpoints go by cascade).
func (tx *Tx) DeletePSK(ctx context.Context, id int64) error {
	var g int64
	err := tx.q.QueryRowContext(ctx, `DELETE FROM psks WHERE id = $1 RETURNING group_id`, id).Scan(&g)
	if err != nil {
		return classify(err, pskNotFound, "")
	}
	return tx.addPSKCount(ctx, g, -1)
}

// scanWhere builds the WHERE clause of a full scan; prefix qualifies
// columns.
func scanWhere(f psk.Scan, prefix string, expiry bool) (string, []any) {
	var w where
	w.cond(strings.ReplaceAll(visible, "(pending", "("+prefix+"pending"))
	if f.GroupID != 0 {
		w.add(prefix+"group_id = ?", f.GroupID)
	}
	if f.UsableAt != nil {
		w.add(prefix+"enabled = ?", true)
		if expiry {
			w.add("("+prefix+"expires_at IS NULL OR "+prefix+"expires_at > ?)", f.UsableAt.UTC())
		}
	}
	return w.sql(), w.args
}

// ScanPSKs calls fn for every row matching f in id order.
func (tx *Tx) ScanPSKs(ctx context.Context, f psk.Scan, fn func(*psk.Row) error) error {
	w, args := scanWhere(f, "", true)
	err := tx.eachRow(ctx, `SELECT `+pskRowColumns+` FROM psks`+w+` ORDER BY id`, args, func(row scanner) error {
		r, err := scanPSKRow(row)
		if err != nil {
			return err
		}
		return fn(r)
	})
	return wrap(err, "scanning PSKs")
}

// ScanKeys calls fn for every visible PSK with only the columns that
// authenticate, reusing one SealedKey: at a million PSKs, scanning every
// column (names, descriptions and three timestamps parsed from text on
// SQLite) was most of a restart's CPU.
func (tx *Tx) ScanKeys(ctx context.Context, fn func(*psk.SealedKey) error) error {
	var (
		k       psk.SealedKey
		sealed  []byte
		sealID  []byte
		vlan    sql.NullInt64
		expires sql.NullTime
	)
	return wrap(tx.eachRow(ctx,
		`SELECT id, group_id, passphrase, seal_id, vlan_id, enabled, expires_at FROM psks WHERE `+visible, nil,
		func(rows scanner) error {
			if err := rows.Scan(&k.ID, &k.GroupID, &sealed, &sealID, &vlan, &k.Enabled, &expires); err != nil {
				return err
			}
			k.Sealed, k.SealID, k.VLANID, k.Expires = sealed, sealID, int(vlan.Int64), time.Time{}
			if expires.Valid {
				k.Expires = expires.Time.UTC()
			}
			return fn(&k)
		}), "scanning PSK keys")
}

// MarkExpired stamps and returns up to limit expired, unreported PSKs. The
// outer condition on expired_notified_at is re-checked by PostgreSQL on
// rows a concurrent sweep updated first, so no PSK is returned twice.
func (tx *Tx) MarkExpired(ctx context.Context, now time.Time, limit int) ([]*psk.PSK, error) {
	rows, err := tx.q.QueryContext(ctx, `UPDATE psks SET expired_notified_at = $1
		WHERE expired_notified_at IS NULL AND id IN (
			SELECT id FROM psks WHERE expires_at IS NOT NULL AND expires_at <= $1 AND expired_notified_at IS NULL
			AND `+visible+` ORDER BY expires_at LIMIT $2)
		RETURNING `+pskColumns, now.UTC(), limit)
	if err != nil {
		return nil, wrap(err, "marking expired")
	}
	defer rows.Close()
	var out []*psk.PSK
	for rows.Next() {
		p, err := scanPSK(rows)
		if err != nil {
			return nil, wrap(err, "marking expired")
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
