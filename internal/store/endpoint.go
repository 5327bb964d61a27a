package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/psk"
)

// Endpoints: stations bound to a PSK; mac is stored normalised
// (aa:bb:cc:dd:ee:ff) and unique per group.

const endpointColumns = `id, group_id, mac, description, psk_id, vlan_id, enabled, last_seen, created_at, updated_at`

const endpointNotFound = "endpoint not found"

const endpointConflict = "an endpoint with this MAC address already exists"

func scanEndpoint(row interface{ Scan(...any) error }) (*psk.Endpoint, error) {
	e := &psk.Endpoint{}
	var vlan sql.NullInt64
	var seen sql.NullTime
	if err := row.Scan(&e.ID, &e.GroupID, &e.MAC, &e.Description, &e.PSKID, &vlan, &e.Enabled, &seen,
		&e.CreatedAt, &e.UpdatedAt); err != nil {
		return nil, wrap(err, "scanning endpoint")
	}
	e.VLANID, e.LastSeen = intPtr(vlan), timePtr(seen)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, nil
}

// InsertEndpoints inserts es with multi-row INSERTs and sets their IDs.
func (tx *Tx) InsertEndpoints(ctx context.Context, es []*psk.Endpoint) error {
	return tx.insertEndpoints(ctx, es, nil)
}

// insertEndpoints inserts es, pending in import pending when not nil.
func (tx *Tx) insertEndpoints(ctx context.Context, es []*psk.Endpoint, pending any) error {
	byMAC := make(map[macKey]*psk.Endpoint, len(es))
	for _, e := range es {
		byMAC[macKey{e.GroupID, e.MAC}] = e
	}
	err := tx.insert(ctx, endpointInsert, len(es), func(i int, args []any) []any {
		return endpointValues(args, es[i], pending)
	}, func(rows *sql.Rows) error {
		var id int64
		var k macKey
		if err := rows.Scan(&id, &k.group, &k.mac); err != nil {
			return err
		}
		if e := byMAC[k]; e != nil {
			e.ID = id
		}
		return nil
	})
	return groupMissing(classify(err, "", endpointConflict))
}

// endpointValues appends e's values in the order of endpointColumnsIn.
func endpointValues(args []any, e *psk.Endpoint, pending any) []any {
	return append(args, e.GroupID, e.MAC, e.Description, e.PSKID, nullInt(e.VLANID), e.Enabled,
		nullable(e.LastSeen), e.CreatedAt.UTC(), e.UpdatedAt.UTC(), pending)
}

type macKey struct {
	group int64
	mac   string
}

// endpointColumnsIn are the columns an insert of an endpoint writes.
var endpointColumnsIn = []string{"group_id", "mac", "description", "psk_id", "vlan_id", "enabled", "last_seen",
	"created_at", "updated_at", "pending"}

var endpointInsert = newMultiRow("endpoints", endpointColumnsIn, ` RETURNING id, group_id, mac`)

// TakenMACs returns which of macs have an endpoint in the group.
func (tx *Tx) TakenMACs(ctx context.Context, groupID int64, macs []string) (map[string]bool, error) {
	return tx.taken(ctx, "endpoints", "mac", groupID, macs)
}

// EndpointByID returns the endpoint or not_found.
func (tx *Tx) EndpointByID(ctx context.Context, id int64) (*psk.Endpoint, error) {
	e, err := scanEndpoint(tx.q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = $1 AND `+visible, id))
	return e, classify(err, endpointNotFound, "")
}

// EndpointByMAC returns the group's endpoint with mac (normalised) or
// not_found.
func (tx *Tx) EndpointByMAC(ctx context.Context, groupID int64, mac string) (*psk.Endpoint, error) {
	e, err := scanEndpoint(tx.q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE group_id = $1 AND mac = $2 AND `+visible,
		groupID, mac))
	return e, classify(err, endpointNotFound, "")
}

func (tx *Tx) endpointWhere(f psk.EndpointFilter) (string, []any) {
	var w where
	w.cond(visible)
	if f.GroupID != 0 {
		w.add("group_id = ?", f.GroupID)
	}
	if f.PSKID != 0 {
		w.add("psk_id = ?", f.PSKID)
	}
	if f.Enabled != nil {
		w.add("enabled = ?", *f.Enabled)
	}
	if f.Search != "" {
		like := tx.ilike()
		w.add("(mac "+like+" OR description "+like+")", likePattern(f.Search))
	}
	return w.sql(), w.args
}

// ListEndpoints returns a page of f's matches ordered by id.
func (tx *Tx) ListEndpoints(ctx context.Context, f psk.EndpointFilter) ([]*psk.Endpoint, error) {
	w, args := tx.endpointWhere(f)
	n := len(args)
	args = append(args, f.Limit, f.Offset)
	rows, err := tx.q.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints`+w+
		` ORDER BY id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), args...)
	if err != nil {
		return nil, wrap(err, "listing endpoints")
	}
	defer rows.Close()
	out := make([]*psk.Endpoint, 0, f.Limit)
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, wrap(err, "listing endpoints")
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountEndpoints counts f's matches.
func (tx *Tx) CountEndpoints(ctx context.Context, f psk.EndpointFilter) (int, error) {
	w, args := tx.endpointWhere(f)
	var n int64
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM endpoints`+w, args...).Scan(&n)
	return int(n), err
}

// UpdateEndpoint writes every mutable field of e.
func (tx *Tx) UpdateEndpoint(ctx context.Context, e *psk.Endpoint) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE endpoints SET mac = $1, description = $2, psk_id = $3,
		vlan_id = $4, enabled = $5, updated_at = $6 WHERE id = $7`,
		e.MAC, e.Description, e.PSKID, nullInt(e.VLANID), e.Enabled, e.UpdatedAt.UTC(), e.ID)
	if err != nil {
		return classify(err, "", endpointConflict)
	}
	return mustAffect(res, endpointNotFound)
}

// DeleteEndpoint removes the endpoint.
func (tx *Tx) DeleteEndpoint(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM endpoints WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting endpoint", id)
	}
	return mustAffect(res, endpointNotFound)
}

// DeleteEndpointsOfPSK removes and returns the PSK's endpoints.
func (tx *Tx) DeleteEndpointsOfPSK(ctx context.Context, pskID int64) ([]*psk.Endpoint, error) {
	rows, err := tx.q.QueryContext(ctx, `DELETE FROM endpoints WHERE psk_id = $1 RETURNING `+endpointColumns, pskID)
	if err != nil {
		return nil, wrap(err, "deleting endpoints of PSK")
	}
	defer rows.Close()
	var out []*psk.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, wrap(err, "deleting endpoints of PSK")
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ScanEndpoints calls fn for every endpoint matching f, ordered by psk_id
// then id. UsableAt selects enabled endpoints (their PSKs' state is the
// caller's to judge).
func (tx *Tx) ScanEndpoints(ctx context.Context, f psk.Scan, fn func(*psk.Endpoint) error) error {
	w, args := scanWhere(f, "", false)
	err := tx.eachRow(ctx, `SELECT `+endpointColumns+` FROM endpoints`+w+` ORDER BY psk_id, id`, args, func(row scanner) error {
		e, err := scanEndpoint(row)
		if err != nil {
			return err
		}
		return fn(e)
	})
	return wrap(err, "scanning endpoints")
}

// ScanBindings calls fn for every visible endpoint with only the columns
// that authenticate, reusing one Binding (see ScanKeys).
func (tx *Tx) ScanBindings(ctx context.Context, fn func(*psk.Binding) error) error {
	var (
		b    psk.Binding
		mac  []byte
		vlan sql.NullInt64
	)
	return wrap(tx.eachRow(ctx,
		`SELECT id, group_id, mac, psk_id, vlan_id, enabled FROM endpoints WHERE `+visible, nil,
		func(rows scanner) error {
			if err := rows.Scan(&b.ID, &b.GroupID, &mac, &b.PSKID, &vlan, &b.Enabled); err != nil {
				return err
			}
			b.MAC, b.VLANID = mac, int(vlan.Int64)
			return fn(&b)
		}), "scanning endpoint bindings")
}

// TouchEndpoints raises last_seen to the given times, a thousand endpoints
// per statement, in id order so concurrent flushes from several replicas
// lock rows in the same order.
func (tx *Tx) TouchEndpoints(ctx context.Context, seen map[int64]time.Time) error {
	ids := make([]int64, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// PostgreSQL needs the VALUES list typed; SQLite must not cast (its
	// CAST to a timestamp type would turn the text into a number).
	row := "(?, ?)"
	if tx.kind == config.Postgres {
		row = "(CAST($%d AS BIGINT), CAST($%d AS TIMESTAMPTZ))"
	}
	chunk := tx.batchRows(2)
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(len(ids), start+chunk)]
		var b strings.Builder
		b.WriteString(`UPDATE endpoints SET last_seen = v.column2 FROM (VALUES `)
		args := make([]any, 0, 2*len(part))
		for i, id := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			if tx.kind == config.Postgres {
				fmt.Fprintf(&b, row, len(args)+1, len(args)+2)
			} else {
				b.WriteString(row)
			}
			args = append(args, id, seen[id].UTC())
		}
		b.WriteString(`) AS v WHERE endpoints.id = v.column1 AND (endpoints.last_seen IS NULL OR endpoints.last_seen < v.column2)`)
		if err := tx.execPrepared(ctx, b.String(), args); err != nil {
			return fmt.Errorf("recording endpoints last seen: %w", err)
		}
	}
	return nil
}
