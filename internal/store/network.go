package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"netkeep/internal/fault"
	"netkeep/internal/mesh"
)

// Mesh networks and their access keys. Ranges are stored as CIDR text,
// times in UTC.

const networkColumns = `id, group_id, netid, display_name, address_range, address_range6,
	default_listen_port, default_keepalive, default_interface, checkin_interval,
	allow_manual_signup, require_approval, key_update_at, nodes_modified_at, modified_at, created_at, revision`

const networkNotFound = "network not found"

func scanNetwork(row interface{ Scan(...any) error }) (*mesh.Network, error) {
	n := &mesh.Network{}
	var r4, r6 string
	err := row.Scan(&n.ID, &n.GroupID, &n.NetID, &n.DisplayName, &r4, &r6,
		&n.DefaultListenPort, &n.DefaultKeepalive, &n.DefaultInterface, &n.CheckInInterval,
		&n.AllowManualSignUp, &n.RequireApproval, &n.KeyUpdateAt, &n.NodesModifiedAt, &n.ModifiedAt, &n.CreatedAt, &n.Revision)
	if err != nil {
		return nil, wrap(err, "scanning network")
	}
	if n.AddressRange, err = netip.ParsePrefix(r4); err != nil {
		return nil, fmt.Errorf("network %s: stored addressrange %q: %w", n.NetID, r4, err)
	}
	if r6 != "" {
		if n.AddressRange6, err = netip.ParsePrefix(r6); err != nil {
			return nil, fmt.Errorf("network %s: stored addressrange6 %q: %w", n.NetID, r6, err)
		}
	}
	n.KeyUpdateAt, n.NodesModifiedAt = n.KeyUpdateAt.UTC(), n.NodesModifiedAt.UTC()
	n.ModifiedAt, n.CreatedAt = n.ModifiedAt.UTC(), n.CreatedAt.UTC()
	return n, nil
}

func rangeText(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// meshUnique names the API field behind a unique index of the mesh tables,
// for conflict details; "" when err is not such a violation.
func meshUnique(err error) string {
	if err == nil || !isUniqueViolation(err) {
		return ""
	}
	var pg *pgconn.PgError
	name := err.Error()
	if errors.As(err, &pg) {
		name = pg.ConstraintName
	}
	// Longest first: "address6" contains "address".
	for _, c := range []struct{ index, column, field string }{
		{"mesh_nodes_address6", "mesh_nodes.address6", "address6"},
		{"mesh_nodes_address", "mesh_nodes.address", "address"},
		{"mesh_nodes_mac", "mesh_nodes.mac_address", "macaddress"},
		{"mesh_nodes_public_key", "mesh_nodes.public_key", "publickey"},
		{"mesh_access_keys_name", "mesh_access_keys.name", "name"},
		{"mesh_access_keys_hash", "mesh_access_keys.hash", "value"},
		{"mesh_networks_netid", "mesh_networks.netid", "netid"},
	} {
		if strings.Contains(name, c.index) || strings.Contains(name, c.column) {
			return c.field
		}
	}
	return ""
}

// meshConflict turns a unique violation into a conflict naming its field.
func meshConflict(err error, msg string) error {
	if f := meshUnique(err); f != "" {
		return fault.New(fault.Conflict, msg+" ("+f+" is taken)").WithDetails(map[string]any{"field": f}).Wrap(err)
	}
	return err
}

// CreateNetwork inserts n and sets its ID.
func (tx *Tx) CreateNetwork(ctx context.Context, n *mesh.Network) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO mesh_networks
		(group_id, netid, display_name, address_range, address_range6, default_listen_port, default_keepalive,
		 default_interface, checkin_interval, allow_manual_signup, require_approval, key_update_at,
		 nodes_modified_at, modified_at, created_at, revision)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		n.GroupID, n.NetID, n.DisplayName, rangeText(n.AddressRange), rangeText(n.AddressRange6),
		n.DefaultListenPort, n.DefaultKeepalive, n.DefaultInterface, n.CheckInInterval,
		n.AllowManualSignUp, n.RequireApproval, n.KeyUpdateAt.UTC(), n.NodesModifiedAt.UTC(),
		n.ModifiedAt.UTC(), n.CreatedAt.UTC(), n.Revision).Scan(&n.ID)
	return meshConflict(err, "the network could not be created")
}

// NetworkByNetID returns the network or not_found.
func (tx *Tx) NetworkByNetID(ctx context.Context, netid string) (*mesh.Network, error) {
	n, err := scanNetwork(tx.q.QueryRowContext(ctx, `SELECT `+networkColumns+` FROM mesh_networks WHERE netid = $1`, netid))
	return n, classify(err, networkNotFound, "")
}

// ListNetworks returns groupID's networks (all for 0) ordered by ID.
func (tx *Tx) ListNetworks(ctx context.Context, groupID int64) ([]*mesh.Network, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+networkColumns+` FROM mesh_networks
		WHERE CAST($1 AS BIGINT) = 0 OR group_id = $1 ORDER BY id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing networks")
	}
	defer rows.Close()
	var out []*mesh.Network
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			return nil, wrap(err, "listing networks")
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// UpdateNetwork writes n's mutable fields and sets n.Revision to the next.
func (tx *Tx) UpdateNetwork(ctx context.Context, n *mesh.Network) error {
	err := tx.q.QueryRowContext(ctx, `UPDATE mesh_networks SET display_name = $1, address_range = $2,
		address_range6 = $3, default_listen_port = $4, default_keepalive = $5, default_interface = $6,
		checkin_interval = $7, allow_manual_signup = $8, require_approval = $9, key_update_at = $10,
		modified_at = $11, revision = revision + 1
		WHERE id = $12 RETURNING revision`,
		n.DisplayName, rangeText(n.AddressRange), rangeText(n.AddressRange6), n.DefaultListenPort,
		n.DefaultKeepalive, n.DefaultInterface, n.CheckInInterval, n.AllowManualSignUp, n.RequireApproval,
		n.KeyUpdateAt.UTC(), n.ModifiedAt.UTC(), n.ID).Scan(&n.Revision)
	return classify(err, networkNotFound, "")
}

// DeleteNetwork removes the network and (by cascade) its access keys.
func (tx *Tx) DeleteNetwork(ctx context.Context, id int64) error {
	n, err := tx.CountNodes(ctx, id)
	if err != nil {
		return wrap(err, "deleting network", id)
	}
	if n > 0 {
		return conflict("the network still has nodes")
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_networks WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting network", id)
	}
	return mustAffect(res, networkNotFound)
}

// CountNodes counts the network's nodes.
func (tx *Tx) CountNodes(ctx context.Context, networkID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM mesh_nodes WHERE network_id = $1`, networkID).Scan(&n)
	return n, err
}

// TouchNetworkNodes raises nodes_modified_at to at.
func (tx *Tx) TouchNetworkNodes(ctx context.Context, networkID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE mesh_networks SET nodes_modified_at = $1
		WHERE id = $2 AND nodes_modified_at < $1`, at.UTC(), networkID)
	return wrap(err, "touching network nodes")
}

const accessKeyColumns = `id, network_id, name, hash, value_sealed, uses, expires_at, created_by, created_at, owner_id`

const accessKeyNotFound = "access key not found"

func scanAccessKey(row interface{ Scan(...any) error }) (*mesh.SealedAccessKey, error) {
	k := &mesh.SealedAccessKey{}
	var hash []byte
	var exp sql.NullTime
	err := row.Scan(&k.ID, &k.NetworkID, &k.Name, &hash, &k.Sealed, &k.Uses, &exp, &k.CreatedBy, &k.CreatedAt, &k.OwnerID)
	if err != nil {
		return nil, wrap(err, "scanning access key")
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("access key %d: stored hash has %d bytes", k.ID, len(hash))
	}
	copy(k.Hash[:], hash)
	k.ExpiresAt = timePtr(exp)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// CreateAccessKey inserts k and sets its ID. A taken name or value is a
// conflict naming the field.
func (tx *Tx) CreateAccessKey(ctx context.Context, k *mesh.SealedAccessKey) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO mesh_access_keys
		(network_id, name, hash, value_sealed, uses, expires_at, created_by, created_at, owner_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		k.NetworkID, k.Name, k.Hash[:], k.Sealed, k.Uses, nullable(k.ExpiresAt), k.CreatedBy, k.CreatedAt.UTC(), k.OwnerID).Scan(&k.ID)
	if f := meshUnique(err); f == "value" {
		return fault.New(fault.Conflict, "another access key of the network has this value").WithDetails(map[string]any{"field": "value"})
	} else if f == "name" {
		return fault.Errorf(fault.Conflict, "access key %s already exists", k.Name).WithDetails(map[string]any{"field": "name"})
	}
	return wrap(err, "creating access key")
}

// ListAccessKeys returns the network's keys by name.
func (tx *Tx) ListAccessKeys(ctx context.Context, networkID int64) ([]*mesh.SealedAccessKey, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+accessKeyColumns+` FROM mesh_access_keys
		WHERE network_id = $1 ORDER BY name`, networkID)
	if err != nil {
		return nil, wrap(err, "listing access keys")
	}
	defer rows.Close()
	var out []*mesh.SealedAccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, wrap(err, "listing access keys")
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteAccessKey removes the key or returns not_found.
func (tx *Tx) DeleteAccessKey(ctx context.Context, networkID int64, name string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_access_keys WHERE network_id = $1 AND name = $2`, networkID, name)
	if err != nil {
		return wrap(err, "deleting access key")
	}
	return mustAffect(res, accessKeyNotFound)
}

// AccessKeyByHash returns the key or not_found.
func (tx *Tx) AccessKeyByHash(ctx context.Context, networkID int64, hash [32]byte) (*mesh.SealedAccessKey, error) {
	k, err := scanAccessKey(tx.q.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM mesh_access_keys
		WHERE network_id = $1 AND hash = $2`, networkID, hash[:]))
	return k, classify(err, accessKeyNotFound, "")
}

// ConsumeAccessKey takes one use in a single conditional UPDATE: the row
// lock it takes makes concurrent joins on PostgreSQL queue and re-check
// "uses > 0", and SQLite has one writer, so uses never goes negative and
// exactly Uses joins succeed.
func (tx *Tx) ConsumeAccessKey(ctx context.Context, networkID int64, hash [32]byte, now time.Time) (*mesh.AccessKey, error) {
	k := &mesh.AccessKey{NetworkID: networkID}
	var exp sql.NullTime
	err := tx.q.QueryRowContext(ctx, `UPDATE mesh_access_keys SET uses = uses - 1
		WHERE network_id = $1 AND hash = $2 AND uses > 0 AND (expires_at IS NULL OR expires_at > $3)
		RETURNING id, name, uses, expires_at, created_by, created_at, owner_id`,
		networkID, hash[:], now.UTC()).Scan(&k.ID, &k.Name, &k.Uses, &exp, &k.CreatedBy, &k.CreatedAt, &k.OwnerID)
	if err != nil {
		return nil, classify(err, accessKeyNotFound, "")
	}
	k.ExpiresAt = timePtr(exp)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}
