package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// CreateGroup inserts g and sets its ID and CreatedAt. A duplicate name
// (case-insensitive) is a conflict.
func (tx *Tx) CreateGroup(ctx context.Context, g *identity.Group) error {
	g.CreatedAt = time.Now().UTC()
	err := tx.q.QueryRowContext(ctx,
		`INSERT INTO groups (name, created_at) VALUES ($1, $2) RETURNING id`,
		g.Name, g.CreatedAt).Scan(&g.ID)
	return classify(err, "group not found", "a group with this name already exists")
}

// GroupByID returns the group or not_found.
func (tx *Tx) GroupByID(ctx context.Context, id int64) (*identity.Group, error) {
	g := &identity.Group{}
	err := tx.q.QueryRowContext(ctx, `SELECT id, name, created_at FROM groups WHERE id = $1`, id).
		Scan(&g.ID, &g.Name, &g.CreatedAt)
	if err != nil {
		return nil, classify(err, "group not found", "")
	}
	return g, nil
}

// GroupByName returns the group (case-insensitive) or not_found.
func (tx *Tx) GroupByName(ctx context.Context, name string) (*identity.Group, error) {
	g := &identity.Group{}
	err := tx.q.QueryRowContext(ctx, `SELECT id, name, created_at FROM groups WHERE lower(name) = lower($1)`, name).
		Scan(&g.ID, &g.Name, &g.CreatedAt)
	if err != nil {
		return nil, classify(err, "group not found", "")
	}
	return g, nil
}

// ListGroups returns every group ordered by id.
func (tx *Tx) ListGroups(ctx context.Context) ([]identity.Group, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, name, created_at FROM groups ORDER BY id`)
	if err != nil {
		return nil, wrap(err, "listing groups")
	}
	defer rows.Close()
	var out []identity.Group
	for rows.Next() {
		var g identity.Group
		if err := rows.Scan(&g.ID, &g.Name, &g.CreatedAt); err != nil {
			return nil, wrap(err, "listing groups")
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// RenameGroup changes a group's name.
func (tx *Tx) RenameGroup(ctx context.Context, id int64, name string) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE groups SET name = $1 WHERE id = $2`, name, id)
	if err != nil {
		return classify(err, "", "a group with this name already exists")
	}
	return mustAffect(res, "group not found")
}

// DeleteGroup removes an empty group with its history. A group that still
// owns users, PSKs (and so endpoints), mesh networks, RADIUS clients or VPN
// gateways, networks, rules or hubs is a conflict naming what is left, so
// nothing an administrator set up disappears unaudited; its API keys, dead
// once its users are gone, go with it by ON DELETE CASCADE. Any other table
// that references the group and was not checked here still refuses the
// delete through its foreign key, which is reported as a conflict too, never
// as a raw driver error.
//
// The group's history goes in the same transaction (see groupHistory), so
// no row is left naming a group that no longer exists; the caller audits
// the deletion in that transaction.
func (tx *Tx) DeleteGroup(ctx context.Context, id int64) error {
	left, err := tx.groupContents(ctx, id)
	if err != nil {
		return wrap(err, "deleting group", id)
	}
	if len(left) > 0 {
		return conflict("the group still has " + joinList(left) + "; move or delete them first")
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if isForeignKeyViolation(err) {
		return fault.New(fault.Conflict, "the group still owns objects that refer to it; delete them first").Wrap(err)
	}
	if err != nil {
		return wrap(err, "deleting group", id)
	}
	if err := mustAffect(res, "group not found"); err != nil {
		return wrap(err, "deleting group", id)
	}
	for _, stmt := range groupHistory {
		if _, err := tx.q.ExecContext(ctx, stmt, id); err != nil {
			return fmt.Errorf("deleting the history of group %d: %w", id, err)
		}
	}
	return nil
}

// groupHistory are the statements that take a deleted group's history ($1)
// with it: rows that record what happened in the group and carry its id
// without a foreign key, because their parent (a RADIUS client, a PSK, a
// gateway) may be another group's or already gone. Migration 00013 removed
// the rows earlier deletions left behind.
//
// Certificates are the CA's register, not the group's: the CRL must list a
// revoked one until it expires, and a valid one must stay revocable by
// serial. They are kept and moved to no group (0: server-wide, which only a
// super administrator sees).
var groupHistory = []string{
	// Leases first: they are found through their configurations.
	`DELETE FROM wireguard_leases WHERE config_id IN (SELECT id FROM vpn_configs WHERE group_id = $1)`,
	`DELETE FROM vpn_configs WHERE group_id = $1`,
	`DELETE FROM vpn_sessions WHERE group_id = $1`,
	`DELETE FROM radius_sessions WHERE group_id = $1`,
	`DELETE FROM radius_pmks WHERE group_id = $1`,
	`UPDATE pki_certificates SET group_id = 0 WHERE group_id = $1`,
	// psk_counts is a cache; the group's row is 0 here.
	`DELETE FROM psk_counts WHERE group_id = $1`,
}

// groupOwners are the tables whose rows keep their group from being
// deleted, with the name a message gives them, in the order messages list
// them. Table names are constants, never input.
var groupOwners = []struct{ table, name string }{
	{"users", "users"},
	{"psks", "PSKs"},
	{"mesh_networks", "mesh networks"},
	{"radius_clients", "RADIUS clients"},
	{"gateways", "VPN gateways"},
	{"vpn_networks", "VPN networks"},
	{"access_rules", "access rules"},
	{"mesh_hubs", "mesh hubs"},
}

// groupContentsQuery asks, in one statement, which groupOwners tables hold
// rows of group $1.
var groupContentsQuery = func() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, o := range groupOwners {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("EXISTS (SELECT 1 FROM " + o.table + " WHERE group_id = $1)")
	}
	return b.String()
}()

// groupContents names the kinds of objects that keep a group from being
// deleted, in a fixed order; empty when there are none.
func (tx *Tx) groupContents(ctx context.Context, id int64) ([]string, error) {
	has := make([]bool, len(groupOwners))
	dest := make([]any, len(has))
	for i := range has {
		dest[i] = &has[i]
	}
	if err := tx.q.QueryRowContext(ctx, groupContentsQuery, id).Scan(dest...); err != nil {
		return nil, wrap(err, "reading group contents", id)
	}
	var left []string
	for i, o := range groupOwners {
		if has[i] {
			left = append(left, o.name)
		}
	}
	return left, nil
}

// joinList writes "a", "a and b", "a, b and c".
func joinList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// isForeignKeyViolation reports a statement refused by a foreign key:
// SQLSTATE 23503 on PostgreSQL, SQLITE_CONSTRAINT_FOREIGNKEY (787) on SQLite.
func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}
