package store

import (
	"context"
	"time"

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
		return nil, err
	}
	defer rows.Close()
	var out []identity.Group
	for rows.Next() {
		var g identity.Group
		if err := rows.Scan(&g.ID, &g.Name, &g.CreatedAt); err != nil {
			return nil, err
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

// DeleteGroup removes an empty group; a group that still has users is a
// conflict (foreign keys refuse it).
func (tx *Tx) DeleteGroup(ctx context.Context, id int64) error {
	var n int
	if err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE group_id = $1`, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return conflict("the group still has users; move or delete them first")
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return mustAffect(res, "group not found")
}
