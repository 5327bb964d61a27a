package store

import (
	"context"

	"netkeep/internal/gateway"
)

// A mesh hub's members (migration 00037).

// HubMembers returns the hub's members by kind, then id, without names.
func (tx *Tx) HubMembers(ctx context.Context, hubID string) ([]gateway.Member, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT kind, member_id FROM mesh_hub_members WHERE hub_id = $1
		ORDER BY kind DESC, member_id`, hubID)
	if err != nil {
		return nil, wrap(err, "reading hub members")
	}
	defer rows.Close()
	out := []gateway.Member{}
	for rows.Next() {
		var m gateway.Member
		if err := rows.Scan(&m.Kind, &m.ID); err != nil {
			return nil, wrap(err, "reading hub members")
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// InsertHubMember adds m to the hub's members and reports whether it was
// not one already.
func (tx *Tx) InsertHubMember(ctx context.Context, hubID string, m gateway.Member) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO mesh_hub_members (hub_id, kind, member_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, hubID, string(m.Kind), m.ID)
	if err != nil {
		return false, wrap(err, "adding a hub member")
	}
	n, err := res.RowsAffected()
	return n == 1, wrap(err, "adding a hub member")
}

// DeleteHubMember removes m from the hub's members; not_found when it is
// none.
func (tx *Tx) DeleteHubMember(ctx context.Context, hubID string, m gateway.Member) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_hub_members WHERE hub_id = $1 AND kind = $2 AND member_id = $3`,
		hubID, string(m.Kind), m.ID)
	if err != nil {
		return wrap(err, "removing a hub member")
	}
	return mustAffect(res, "no such hub member")
}
