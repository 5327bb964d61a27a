package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/mesh"
)

// Mesh nodes, read with their network's group and NetID. Secrets (the
// password hash, the server's sealed key) are read only by NodeSecrets.

const nodeColumns = `n.id, n.network_id, w.group_id, w.netid, n.mac_address, n.name, n.public_key, n.endpoint,
	n.listen_port, n.local_address, n.address, n.address6, n.persistent_keepalive, n.interface, n.pending,
	n.egress_ranges, n.egress_interface, n.is_server, n.os, n.key_update_at, n.last_checkin,
	n.created_at, n.modified_at, n.revision, n.owner_id`

const nodeFrom = ` FROM mesh_nodes n JOIN mesh_networks w ON w.id = n.network_id `

const nodeNotFound = "node not found"

func scanNode(row interface{ Scan(...any) error }) (*mesh.Node, error) {
	n := &mesh.Node{}
	var addr, egress string
	var addr6 sql.NullString
	var checkin sql.NullTime
	err := row.Scan(&n.ID, &n.NetworkID, &n.GroupID, &n.Network, &n.MAC, &n.Name, &n.PublicKey, &n.Endpoint,
		&n.ListenPort, &n.LocalAddress, &addr, &addr6, &n.PersistentKeepalive, &n.Interface, &n.Pending,
		&egress, &n.EgressInterface, &n.IsServer, &n.OS, &n.KeyUpdateAt, &checkin,
		&n.CreatedAt, &n.ModifiedAt, &n.Revision, &n.OwnerID)
	if err != nil {
		return nil, wrap(err, "scanning node")
	}
	if n.Address, err = netip.ParseAddr(addr); err != nil {
		return nil, fmt.Errorf("node %d: stored address %q: %w", n.ID, addr, err)
	}
	if addr6.Valid && addr6.String != "" {
		if n.Address6, err = netip.ParseAddr(addr6.String); err != nil {
			return nil, fmt.Errorf("node %d: stored address6 %q: %w", n.ID, addr6.String, err)
		}
	}
	for _, f := range strings.Fields(egress) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("node %d: stored egress range %q: %w", n.ID, f, err)
		}
		n.EgressRanges = append(n.EgressRanges, p)
	}
	if t := timePtr(checkin); t != nil {
		n.LastCheckIn = *t
	}
	n.KeyUpdateAt, n.CreatedAt, n.ModifiedAt = n.KeyUpdateAt.UTC(), n.CreatedAt.UTC(), n.ModifiedAt.UTC()
	return n, nil
}

func addr6Value(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	return a.String()
}

func egressText(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// CreateNode inserts n with its secrets and sets its ID. A taken MAC, public
// key or address is a conflict naming the field.
func (tx *Tx) CreateNode(ctx context.Context, n *mesh.Node, sec mesh.NodeSecrets) error {
	var serverKey any
	if len(sec.ServerKey) > 0 {
		serverKey = sec.ServerKey
	}
	err := tx.q.QueryRowContext(ctx, `INSERT INTO mesh_nodes
		(network_id, mac_address, name, public_key, endpoint, listen_port, local_address, address, address6,
		 persistent_keepalive, interface, pending, egress_ranges, egress_interface, is_server, os,
		 password_hash, server_key, key_update_at, last_checkin, created_at, modified_at, revision, owner_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
		RETURNING id`,
		n.NetworkID, n.MAC, n.Name, n.PublicKey, n.Endpoint, n.ListenPort, n.LocalAddress, n.Address.String(),
		addr6Value(n.Address6), n.PersistentKeepalive, n.Interface, n.Pending, egressText(n.EgressRanges),
		n.EgressInterface, n.IsServer, n.OS, sec.PasswordHash, serverKey, n.KeyUpdateAt.UTC(),
		nullableTime(n.LastCheckIn), n.CreatedAt.UTC(), n.ModifiedAt.UTC(), n.Revision, n.OwnerID).Scan(&n.ID)
	return meshConflict(err, "the node could not be created")
}

// NodeForUpdate returns the node by network and MAC, locking its row on
// PostgreSQL (SQLite's single writer serialises anyway).
func (tx *Tx) NodeForUpdate(ctx context.Context, networkID int64, mac string) (*mesh.Node, error) {
	q := `SELECT ` + nodeColumns + nodeFrom + `WHERE n.network_id = $1 AND n.mac_address = $2`
	if tx.kind == config.Postgres {
		q += ` FOR UPDATE OF n`
	}
	n, err := scanNode(tx.q.QueryRowContext(ctx, q, networkID, mac))
	return n, classify(err, nodeNotFound, "")
}

// NodeByID returns the node or not_found.
func (tx *Tx) NodeByID(ctx context.Context, id int64) (*mesh.Node, error) {
	n, err := scanNode(tx.q.QueryRowContext(ctx, `SELECT `+nodeColumns+nodeFrom+`WHERE n.id = $1`, id))
	return n, classify(err, nodeNotFound, "")
}

// ScanNodes calls fn for every node of networkID (all for 0), by network and
// ID, streaming rows.
func (tx *Tx) ScanNodes(ctx context.Context, networkID int64, fn func(*mesh.Node) error) error {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+nodeColumns+nodeFrom+`
		WHERE CAST($1 AS BIGINT) = 0 OR n.network_id = $1 ORDER BY n.network_id, n.id`, networkID)
	if err != nil {
		return wrap(err, "scanning nodes")
	}
	defer rows.Close()
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return wrap(err, "scanning nodes")
		}
		if err := fn(n); err != nil {
			return wrap(err, "scanning nodes")
		}
	}
	return rows.Err()
}

// UpdateNode writes n's mutable fields and sets n.Revision to the next.
func (tx *Tx) UpdateNode(ctx context.Context, n *mesh.Node) error {
	err := tx.q.QueryRowContext(ctx, `UPDATE mesh_nodes SET name = $1, public_key = $2, endpoint = $3,
		listen_port = $4, local_address = $5, address = $6, address6 = $7, persistent_keepalive = $8,
		interface = $9, pending = $10, egress_ranges = $11, egress_interface = $12, os = $13,
		key_update_at = $14, modified_at = $15, revision = revision + 1
		WHERE id = $16 RETURNING revision`,
		n.Name, n.PublicKey, n.Endpoint, n.ListenPort, n.LocalAddress, n.Address.String(), addr6Value(n.Address6),
		n.PersistentKeepalive, n.Interface, n.Pending, egressText(n.EgressRanges), n.EgressInterface, n.OS,
		n.KeyUpdateAt.UTC(), n.ModifiedAt.UTC(), n.ID).Scan(&n.Revision)
	if err != nil {
		return meshConflict(classify(err, nodeNotFound, ""), "the node could not be updated")
	}
	return nil
}

// SetNodePassword replaces the node's password hash.
func (tx *Tx) SetNodePassword(ctx context.Context, id int64, hash string) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE mesh_nodes SET password_hash = $1 WHERE id = $2`, hash, id)
	if err != nil {
		return wrap(err, "setting node password", id)
	}
	return mustAffect(res, nodeNotFound)
}

// SetServerKey replaces the sealed private key of the server's own node.
func (tx *Tx) SetServerKey(ctx context.Context, id int64, sealed []byte) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE mesh_nodes SET server_key = $1 WHERE id = $2 AND server_key IS NOT NULL`, sealed, id)
	if err != nil {
		return wrap(err, "setting server key", id)
	}
	return mustAffect(res, nodeNotFound)
}

// NodeSecrets returns the node's password hash and sealed server key.
func (tx *Tx) NodeSecrets(ctx context.Context, id int64) (mesh.NodeSecrets, error) {
	var s mesh.NodeSecrets
	err := tx.q.QueryRowContext(ctx, `SELECT password_hash, server_key FROM mesh_nodes WHERE id = $1`, id).
		Scan(&s.PasswordHash, &s.ServerKey)
	return s, classify(err, nodeNotFound, "")
}

// DeleteNode removes the node or returns not_found.
func (tx *Tx) DeleteNode(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_nodes WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting node", id)
	}
	return mustAffect(res, nodeNotFound)
}

// TouchNodes raises last_checkin, in ID order so concurrent flushes from
// several replicas lock rows in the same order and cannot deadlock.
func (tx *Tx) TouchNodes(ctx context.Context, seen map[int64]time.Time) error {
	ids := make([]int64, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		_, err := tx.q.ExecContext(ctx, `UPDATE mesh_nodes SET last_checkin = $1
			WHERE id = $2 AND (last_checkin IS NULL OR last_checkin < $1)`, seen[id].UTC(), id)
		if err != nil {
			return fmt.Errorf("recording check-in of node %d: %w", id, err)
		}
	}
	return nil
}
