package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	"netkeep/internal/pki"
	"netkeep/internal/vpnconfig"
)

// VPN client configurations (see migrations 00009_configs.sql and
// 00010_wireguard_configs.sql).

const vpnConfigColumns = `id, user_id, group_id, gateway_id, protocol, serial, common_name,
	created_at, expires_at, downloads, last_download, revoked_at, wg_public_key, wg_address`

const vpnConfigNotFound = "config not found"

// scanVPNConfig reads vpnConfigColumns, plus key_sealed when withKey.
func scanVPNConfig(row interface{ Scan(...any) error }, withKey bool) (*vpnconfig.Config, error) {
	c := &vpnconfig.Config{}
	var proto string
	var serial, wgKey, wgAddr sql.NullString
	var last, revoked sql.NullTime
	dest := []any{&c.ID, &c.UserID, &c.GroupID, &c.GatewayID, &proto, &serial, &c.CommonName,
		&c.CreatedAt, &c.ExpiresAt, &c.Downloads, &last, &revoked, &wgKey, &wgAddr}
	if withKey {
		dest = append(dest, &c.KeySealed)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, wrap(err, "scanning VPN config")
	}
	if wgAddr.Valid {
		a, err := netip.ParsePrefix(wgAddr.String)
		if err != nil {
			return nil, fmt.Errorf("config %s: stored wg_address %q: %w", c.ID, wgAddr.String, err)
		}
		c.Address = a
	}
	c.Protocol, c.Serial, c.WireGuardKey = vpnconfig.Protocol(proto), pki.Serial(serial.String), wgKey.String
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	c.LastDownload, c.RevokedAt = timePtr(last), timePtr(revoked)
	return c, nil
}

// InsertVPNConfig records c; a duplicate id, serial or WireGuard key is a
// conflict. Empty Serial, WireGuardKey and Address are stored as NULL.
func (tx *Tx) InsertVPNConfig(ctx context.Context, c *vpnconfig.Config) error {
	var addr any
	if c.Address.IsValid() {
		addr = c.Address.String()
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO vpn_configs
		(id, user_id, group_id, gateway_id, protocol, serial, common_name, key_sealed, created_at, expires_at,
		 downloads, last_download, revoked_at, wg_public_key, wg_address)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.ID, c.UserID, c.GroupID, c.GatewayID, string(c.Protocol), nullString(string(c.Serial)), c.CommonName, c.KeySealed,
		c.CreatedAt.UTC(), c.ExpiresAt.UTC(), c.Downloads, nullable(c.LastDownload), nullable(c.RevokedAt),
		nullString(c.WireGuardKey), addr)
	return classify(err, "", "a config with this id, certificate or key already exists")
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// VPNConfig returns the configuration with its sealed key, or not_found.
func (tx *Tx) VPNConfig(ctx context.Context, id string) (*vpnconfig.Config, error) {
	c, err := scanVPNConfig(tx.q.QueryRowContext(ctx, `SELECT `+vpnConfigColumns+`, key_sealed
		FROM vpn_configs WHERE id = $1`, id), true)
	return c, classify(err, vpnConfigNotFound, "")
}

// ListVPNConfigs returns the page q selects, newest first, without keys,
// and the total count.
func (tx *Tx) ListVPNConfigs(ctx context.Context, q vpnconfig.Query) ([]*vpnconfig.Config, int, error) {
	const where = ` FROM vpn_configs WHERE (CAST($1 AS BIGINT) = 0 OR group_id = $1)
		AND (CAST($2 AS BIGINT) = 0 OR user_id = $2) AND (CAST($3 AS TEXT) = '' OR gateway_id = $3)`
	var total int
	if err := tx.q.QueryRowContext(ctx, `SELECT count(*)`+where, q.GroupID, q.UserID, q.GatewayID).Scan(&total); err != nil {
		return nil, 0, wrap(err, "listing VPN configs")
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT `+vpnConfigColumns+where+
		` ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5`, q.GroupID, q.UserID, q.GatewayID, pageLimit(q.Limit), q.Offset)
	if err != nil {
		return nil, 0, wrap(err, "listing VPN configs")
	}
	defer rows.Close()
	out := []*vpnconfig.Config{}
	for rows.Next() {
		c, err := scanVPNConfig(rows, false)
		if err != nil {
			return nil, 0, wrap(err, "listing VPN configs")
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// RecordVPNConfigDownload counts one download at at.
func (tx *Tx) RecordVPNConfigDownload(ctx context.Context, id string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE vpn_configs SET downloads = downloads + 1, last_download = $1
		WHERE id = $2`, at.UTC(), id)
	if err != nil {
		return wrap(err, "recording VPN config download", id)
	}
	return mustAffect(res, vpnConfigNotFound)
}

// RevokeVPNConfig marks an unrevoked configuration revoked and erases its
// sealed key; not_found when no unrevoked one has id.
func (tx *Tx) RevokeVPNConfig(ctx context.Context, id string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE vpn_configs SET revoked_at = $1, key_sealed = NULL
		WHERE id = $2 AND revoked_at IS NULL`, at.UTC(), id)
	if err != nil {
		return wrap(err, "revoking VPN config", id)
	}
	return mustAffect(res, vpnConfigNotFound)
}
