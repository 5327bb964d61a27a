package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"netkeep/internal/device"
	"netkeep/internal/fault"
)

// Devices, pairing codes and device cookies. Codes and bootstrap tokens
// are stored as 32-byte SHA-256; scopes space-separated (Nekzus's names
// hold no spaces).

const deviceNotFound = "device not found"

// CreatePairingCode inserts c.
func (tx *Tx) CreatePairingCode(ctx context.Context, c *device.PairingCode) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO pairing_codes (code_hash, group_id, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, c.Hash[:], c.GroupID, nullID(c.CreatedBy), c.CreatedAt.UTC(), c.ExpiresAt.UTC())
	return classify(err, "", "a pairing code with this value exists")
}

// RedeemPairingCode marks a live, unlocked, unredeemed code redeemed with
// its bootstrap token, in one statement so two redemptions cannot both win.
func (tx *Tx) RedeemPairingCode(ctx context.Context, hash [32]byte, now time.Time, bootstrap [32]byte, bootstrapExpires time.Time) (*device.PairingCode, error) {
	c := &device.PairingCode{Hash: hash}
	var createdBy sql.NullInt64
	err := tx.q.QueryRowContext(ctx, `UPDATE pairing_codes SET redeemed_at = $1, bootstrap_hash = $2, bootstrap_expires = $3
		WHERE code_hash = $4 AND redeemed_at IS NULL AND expires_at > $1 AND failures < $5
		RETURNING group_id, created_by, created_at, expires_at`,
		now.UTC(), bootstrap[:], bootstrapExpires.UTC(), hash[:], device.MaxFailures).
		Scan(&c.GroupID, &createdBy, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return nil, classify(wrap(err, "redeeming pairing code"), "pairing code not found", "")
	}
	c.CreatedBy = createdBy.Int64
	return c, nil
}

// FailPairingCodes counts a failed redemption against every live code.
func (tx *Tx) FailPairingCodes(ctx context.Context, now time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE pairing_codes SET failures = failures + 1
		WHERE redeemed_at IS NULL AND expires_at > $1`, now.UTC())
	return wrap(err, "counting a failed pairing")
}

// UseBootstrapToken spends a bootstrap token, once, before it expires.
func (tx *Tx) UseBootstrapToken(ctx context.Context, hash [32]byte, now time.Time) (*device.PairingCode, error) {
	c := &device.PairingCode{}
	var code []byte
	var createdBy sql.NullInt64
	err := tx.q.QueryRowContext(ctx, `UPDATE pairing_codes SET bootstrap_used_at = $1
		WHERE bootstrap_hash = $2 AND bootstrap_used_at IS NULL AND bootstrap_expires > $1
		RETURNING code_hash, group_id, created_by, created_at, expires_at`, now.UTC(), hash[:]).
		Scan(&code, &c.GroupID, &createdBy, &c.CreatedAt, &c.ExpiresAt)
	if err != nil {
		return nil, classify(wrap(err, "using bootstrap token"), "bootstrap token not found", "")
	}
	copy(c.Hash[:], code)
	c.CreatedBy = createdBy.Int64
	return c, nil
}

// DeletePairingCodes removes codes that expired before.
func (tx *Tx) DeletePairingCodes(ctx context.Context, before time.Time) error {
	_, err := tx.q.ExecContext(ctx, `DELETE FROM pairing_codes WHERE expires_at < $1
		AND (bootstrap_expires IS NULL OR bootstrap_expires < $1)`, before.UTC())
	return wrap(err, "deleting expired pairing codes")
}

const deviceColumns = `device_id, group_id, user_id, name, model, platform, push_token, scopes, epoch,
	created_at, paired_at, last_seen_at, revoked_at`

func scanDevice(row interface{ Scan(...any) error }) (*device.Device, error) {
	d := &device.Device{}
	var userID sql.NullInt64
	var scopes string
	var seen, revoked sql.NullTime
	if err := row.Scan(&d.ID, &d.GroupID, &userID, &d.Name, &d.Model, &d.Platform, &d.PushToken, &scopes, &d.Epoch,
		&d.CreatedAt, &d.PairedAt, &seen, &revoked); err != nil {
		return nil, err
	}
	d.UserID, d.Scopes = userID.Int64, strings.Fields(scopes)
	d.CreatedAt, d.PairedAt = d.CreatedAt.UTC(), d.PairedAt.UTC()
	d.LastSeenAt, d.RevokedAt = timePtr(seen), timePtr(revoked)
	return d, nil
}

// UpsertDevice inserts d or replaces the pairing of d's id within d's
// group; the id taken in another group is a conflict.
func (tx *Tx) UpsertDevice(ctx context.Context, d *device.Device) error {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO devices (`+deviceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL)
		ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, model = excluded.model,
			platform = excluded.platform, push_token = excluded.push_token, scopes = excluded.scopes, epoch = excluded.epoch,
			paired_at = excluded.paired_at, revoked_at = NULL
		WHERE devices.group_id = excluded.group_id`,
		d.ID, d.GroupID, nullID(d.UserID), d.Name, d.Model, d.Platform, d.PushToken, strings.Join(d.Scopes, " "), d.Epoch,
		d.CreatedAt.UTC(), d.PairedAt.UTC())
	if err != nil {
		return wrap(err, "pairing device", d.ID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fault.New(fault.Conflict, "device id taken in another group")
	}
	return nil
}

// DeviceByID returns the device, revoked or not.
func (tx *Tx) DeviceByID(ctx context.Context, id string) (*device.Device, error) {
	d, err := scanDevice(tx.q.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE device_id = $1`, id))
	return d, classify(wrap(err, "reading device", id), deviceNotFound, "")
}

// ListDevices returns a page of the unrevoked devices of group (0: all),
// oldest first, and their total.
func (tx *Tx) ListDevices(ctx context.Context, groupID int64, page device.Page) ([]*device.Device, int, error) {
	var total int
	if err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices
		WHERE revoked_at IS NULL AND (CAST($1 AS BIGINT) = 0 OR group_id = $1)`, groupID).Scan(&total); err != nil {
		return nil, 0, wrap(err, "counting devices")
	}
	limit := page.Limit
	if limit < 0 {
		limit = total
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices
		WHERE revoked_at IS NULL AND (CAST($1 AS BIGINT) = 0 OR group_id = $1)
		ORDER BY created_at, device_id LIMIT $2 OFFSET $3`, groupID, limit, page.Offset)
	if err != nil {
		return nil, 0, wrap(err, "listing devices")
	}
	defer rows.Close()
	var out []*device.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, 0, wrap(err, "listing devices")
		}
		out = append(out, d)
	}
	return out, total, wrap(rows.Err(), "listing devices")
}

// UpdateDevice writes d's metadata.
func (tx *Tx) UpdateDevice(ctx context.Context, d *device.Device) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE devices SET name = $1 WHERE device_id = $2`, d.Name, d.ID)
	if err != nil {
		return wrap(err, "updating device", d.ID)
	}
	return mustAffect(res, deviceNotFound)
}

// RevokeDevice sets revoked_at on the unrevoked device.
func (tx *Tx) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE devices SET revoked_at = $1 WHERE device_id = $2 AND revoked_at IS NULL`, at.UTC(), id)
	if err != nil {
		return wrap(err, "revoking device", id)
	}
	return mustAffect(res, deviceNotFound)
}

// TouchDevice raises last_seen_at to at.
func (tx *Tx) TouchDevice(ctx context.Context, id string, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE devices SET last_seen_at = $1
		WHERE device_id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)`, at.UTC(), id)
	return wrap(err, "recording device use", id)
}

// SaveCookies inserts or replaces cookies by (device, app, name, path).
func (tx *Tx) SaveCookies(ctx context.Context, deviceID, appID string, cs []*device.Cookie) error {
	for _, c := range cs {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO device_cookies
			(device_id, app_id, name, path, domain, value, expires_at, secure, http_only, same_site, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
			ON CONFLICT (device_id, app_id, name, path) DO UPDATE SET domain = excluded.domain, value = excluded.value,
				expires_at = excluded.expires_at, secure = excluded.secure, http_only = excluded.http_only,
				same_site = excluded.same_site, updated_at = excluded.updated_at`,
			deviceID, appID, c.Name, c.Path, c.Domain, c.Sealed, nullable(c.ExpiresAt), c.Secure, c.HTTPOnly, c.SameSite, c.UpdatedAt.UTC())
		if err != nil {
			return wrap(err, "saving cookie of device", deviceID)
		}
	}
	return nil
}

// Cookies returns a device's cookies, of one app when appID is set.
func (tx *Tx) Cookies(ctx context.Context, deviceID, appID string) ([]*device.Cookie, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT app_id, name, path, domain, value, expires_at, secure, http_only, same_site,
		created_at, updated_at FROM device_cookies WHERE device_id = $1 AND ($2 = '' OR app_id = $2)
		ORDER BY app_id, name, path`, deviceID, appID)
	if err != nil {
		return nil, wrap(err, "reading cookies of device", deviceID)
	}
	defer rows.Close()
	var out []*device.Cookie
	for rows.Next() {
		c := &device.Cookie{}
		var exp sql.NullTime
		if err := rows.Scan(&c.AppID, &c.Name, &c.Path, &c.Domain, &c.Sealed, &exp, &c.Secure, &c.HTTPOnly, &c.SameSite,
			&c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, wrap(err, "reading cookies of device", deviceID)
		}
		c.ExpiresAt, c.CreatedAt, c.UpdatedAt = timePtr(exp), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "reading cookies of device", deviceID)
}

// DeleteCookies deletes a device's cookies, of one app when appID is set.
func (tx *Tx) DeleteCookies(ctx context.Context, deviceID, appID string) (int, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM device_cookies WHERE device_id = $1 AND ($2 = '' OR app_id = $2)`, deviceID, appID)
	if err != nil {
		return 0, wrap(err, "deleting cookies of device", deviceID)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// nullID maps id 0 (no user: local trust, the master key) to NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
