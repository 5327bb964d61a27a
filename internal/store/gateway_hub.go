package store

import (
	"context"

	"netkeep/internal/gateway"
)

// Mesh hubs and their spokes.

const meshHubColumns = `id, group_id, name, description, gateway_id, created_at, updated_at`

const meshHubNotFound = "mesh hub not found"

func scanMeshHub(row interface{ Scan(...any) error }) (*gateway.Hub, error) {
	h := &gateway.Hub{Spokes: []gateway.Spoke{}}
	if err := row.Scan(&h.ID, &h.GroupID, &h.Name, &h.Description, &h.GatewayID, &h.CreatedAt, &h.UpdatedAt); err != nil {
		return nil, wrap(err, "scanning mesh hub")
	}
	h.CreatedAt, h.UpdatedAt = h.CreatedAt.UTC(), h.UpdatedAt.UTC()
	return h, nil
}

// InsertMeshHub stores h with its spokes.
func (tx *Tx) InsertMeshHub(ctx context.Context, h *gateway.Hub) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO mesh_hubs (id, group_id, name, description, gateway_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, h.ID, h.GroupID, h.Name, h.Description, h.GatewayID,
		h.CreatedAt.UTC(), h.UpdatedAt.UTC())
	if err != nil {
		return gatewayConflict(err, "mesh hub")
	}
	return tx.hubSpokes(ctx, h)
}

func (tx *Tx) hubSpokes(ctx context.Context, h *gateway.Hub) error {
	for _, sp := range h.Spokes {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO mesh_hub_spokes (hub_id, kind, spoke_id) VALUES ($1, $2, $3)`,
			h.ID, string(sp.Kind), sp.ID); err != nil {
			return wrap(err, "reading hub spokes")
		}
	}
	return nil
}

// loadSpokes fills the spokes of the hubs in byID from query (selecting
// hub_id, kind, spoke_id in order).
func (tx *Tx) loadSpokes(ctx context.Context, byID map[string]*gateway.Hub, query string, arg any) error {
	rows, err := tx.q.QueryContext(ctx, query, arg)
	if err != nil {
		return wrap(err, "loading spokes")
	}
	defer rows.Close()
	for rows.Next() {
		var hubID, kind, id string
		if err := rows.Scan(&hubID, &kind, &id); err != nil {
			return wrap(err, "loading spokes")
		}
		if h := byID[hubID]; h != nil {
			h.Spokes = append(h.Spokes, gateway.Spoke{Kind: gateway.SpokeKind(kind), ID: id})
		}
	}
	return rows.Err()
}

// MeshHubByID returns the hub with its spokes, or not_found.
func (tx *Tx) MeshHubByID(ctx context.Context, id string) (*gateway.Hub, error) {
	h, err := scanMeshHub(tx.q.QueryRowContext(ctx, `SELECT `+meshHubColumns+` FROM mesh_hubs WHERE id = $1`, id))
	if err != nil {
		return nil, classify(err, meshHubNotFound, "")
	}
	return h, tx.loadSpokes(ctx, map[string]*gateway.Hub{h.ID: h},
		`SELECT hub_id, kind, spoke_id FROM mesh_hub_spokes WHERE hub_id = $1 ORDER BY kind, spoke_id`, id)
}

// ListMeshHubs returns groupID's hubs (all for 0) by name, with spokes.
func (tx *Tx) ListMeshHubs(ctx context.Context, groupID int64) ([]*gateway.Hub, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+meshHubColumns+` FROM mesh_hubs
		WHERE CAST($1 AS BIGINT) = 0 OR group_id = $1 ORDER BY name, id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing mesh hubs")
	}
	out := []*gateway.Hub{}
	byID := map[string]*gateway.Hub{}
	for rows.Next() {
		h, err := scanMeshHub(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "listing mesh hubs")
		}
		out = append(out, h)
		byID[h.ID] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "listing mesh hubs")
	}
	return out, tx.loadSpokes(ctx, byID, `SELECT s.hub_id, s.kind, s.spoke_id FROM mesh_hub_spokes s
		JOIN mesh_hubs h ON h.id = s.hub_id WHERE CAST($1 AS BIGINT) = 0 OR h.group_id = $1
		ORDER BY s.kind, s.spoke_id`, groupID)
}

// CountHubsOf counts the hubs whose hub gateway is gatewayID.
func (tx *Tx) CountHubsOf(ctx context.Context, gatewayID string) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM mesh_hubs WHERE gateway_id = $1`, gatewayID).Scan(&n)
	return n, err
}

// UpdateMeshHub writes h's fields and replaces its spokes.
func (tx *Tx) UpdateMeshHub(ctx context.Context, h *gateway.Hub) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE mesh_hubs SET name = $1, description = $2, gateway_id = $3, updated_at = $4
		WHERE id = $5`, h.Name, h.Description, h.GatewayID, h.UpdatedAt.UTC(), h.ID)
	if err != nil {
		return gatewayConflict(err, "mesh hub")
	}
	if err := mustAffect(res, meshHubNotFound); err != nil {
		return wrap(err, "updating mesh hub")
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_hub_spokes WHERE hub_id = $1`, h.ID); err != nil {
		return wrap(err, "updating mesh hub")
	}
	return tx.hubSpokes(ctx, h)
}

// DeleteMeshHub removes the hub and its spokes.
func (tx *Tx) DeleteMeshHub(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_hubs WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting mesh hub", id)
	}
	return mustAffect(res, meshHubNotFound)
}
