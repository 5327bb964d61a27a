package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"netkeep/internal/radius"
	"netkeep/internal/radius/nas"
)

// RADIUS clients, their sessions and the PMKs of handshake identification.
// SSIDs are stored as a JSON array (SSIDs may contain any byte but NUL).

const radiusClientColumns = `id, group_id, name, address, secret, vendor, require_message_authenticator,
	ssids, mac_password_mode, mac_password_sealed, dae_mode, dae_port, dae_address, created_at, updated_at`

const radiusClientNotFound = "RADIUS client not found"

func scanRadiusClient(row interface{ Scan(...any) error }) (*nas.Client, error) {
	c := &nas.Client{}
	var vendor, ssids, macMode, daeMode string
	err := row.Scan(&c.ID, &c.GroupID, &c.Name, &c.Address, &c.SealedSecret, &vendor,
		&c.RequireMessageAuthenticator, &ssids, &macMode, &c.SealedMACPassword,
		&daeMode, &c.DAE.Port, &c.DAE.Address, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, wrap(err, "scanning RADIUS client")
	}
	c.Vendor, c.MACPassword, c.DAE.Mode = nas.Vendor(vendor), nas.MACPasswordMode(macMode), nas.DAEMode(daeMode)
	if err := json.Unmarshal([]byte(ssids), &c.SSIDs); err != nil {
		return nil, fmt.Errorf("RADIUS client %d: stored SSIDs: %w", c.ID, err)
	}
	if _, c.Prefix, err = nas.ParseAddress(c.Address); err != nil {
		return nil, fmt.Errorf("RADIUS client %d: stored address %q: %w", c.ID, c.Address, err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func ssidsJSON(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// orEmpty stores a missing sealed value as the empty one (the columns are
// NOT NULL).
func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// macPasswordMode is c's mode as stored; unset is the default, "mac".
func macPasswordMode(c *nas.Client) string {
	if c.MACPassword == "" {
		return string(nas.MACPasswordMAC)
	}
	return string(c.MACPassword)
}

// daeMode and daePort are c's dynamic authorization settings as stored;
// unset is the default (Disconnect-Request on port 3799).
func daeMode(c *nas.Client) string {
	if c.DAE.Mode == "" {
		return string(nas.DAEDisconnect)
	}
	return string(c.DAE.Mode)
}

func daePort(c *nas.Client) int {
	if c.DAE.Port == 0 {
		return nas.DefaultDAEPort
	}
	return c.DAE.Port
}

const radiusAddressTaken = "a RADIUS client with this address already exists"

// CreateRadiusClient inserts c and sets its ID. Until the caller stores the
// sealed secret (bound to the ID), the secret column holds a placeholder.
func (tx *Tx) CreateRadiusClient(ctx context.Context, c *nas.Client) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO radius_clients
		(group_id, name, address, secret, vendor, require_message_authenticator, ssids,
		 mac_password_mode, mac_password_sealed, dae_mode, dae_port, dae_address, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		c.GroupID, c.Name, c.Address, orEmpty(c.SealedSecret), string(c.Vendor), c.RequireMessageAuthenticator,
		ssidsJSON(c.SSIDs), macPasswordMode(c), orEmpty(c.SealedMACPassword), daeMode(c), daePort(c), c.DAE.Address,
		c.CreatedAt.UTC(), c.UpdatedAt.UTC()).Scan(&c.ID)
	return groupMissing(classify(err, "", radiusAddressTaken))
}

// RadiusClientByID returns the client or not_found.
func (tx *Tx) RadiusClientByID(ctx context.Context, id int64) (*nas.Client, error) {
	c, err := scanRadiusClient(tx.q.QueryRowContext(ctx, `SELECT `+radiusClientColumns+` FROM radius_clients WHERE id = $1`, id))
	return c, classify(err, radiusClientNotFound, "")
}

// ListRadiusClients returns groupID's clients (0: all) by id.
func (tx *Tx) ListRadiusClients(ctx context.Context, groupID int64) ([]*nas.Client, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+radiusClientColumns+` FROM radius_clients
		WHERE (CAST($1 AS BIGINT) = 0 OR group_id = $1) ORDER BY id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing RADIUS clients")
	}
	defer rows.Close()
	out := []*nas.Client{}
	for rows.Next() {
		c, err := scanRadiusClient(rows)
		if err != nil {
			return nil, wrap(err, "listing RADIUS clients")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateRadiusClient writes c's mutable fields; not_found if it is gone.
func (tx *Tx) UpdateRadiusClient(ctx context.Context, c *nas.Client) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE radius_clients SET name = $1, address = $2, secret = $3,
		vendor = $4, require_message_authenticator = $5, ssids = $6, mac_password_mode = $7,
		mac_password_sealed = $8, dae_mode = $9, dae_port = $10, dae_address = $11, updated_at = $12 WHERE id = $13`,
		c.Name, c.Address, orEmpty(c.SealedSecret), string(c.Vendor), c.RequireMessageAuthenticator,
		ssidsJSON(c.SSIDs), macPasswordMode(c), orEmpty(c.SealedMACPassword), daeMode(c), daePort(c), c.DAE.Address,
		c.UpdatedAt.UTC(), c.ID)
	if err != nil {
		return classify(err, "", radiusAddressTaken)
	}
	return mustAffect(res, radiusClientNotFound)
}

// DeleteRadiusClient removes the client and its sessions.
func (tx *Tx) DeleteRadiusClient(ctx context.Context, id int64) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM radius_sessions WHERE client_id = $1`, id); err != nil {
		return wrap(err, "deleting RADIUS client", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM radius_clients WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting RADIUS client", id)
	}
	return mustAffect(res, radiusClientNotFound)
}

// ApplyRadiusSessions applies a batch: resets, then stops, then upserts (in
// key order, so concurrent flushes from replicas lock rows in one order).
// A session of a client deleted meanwhile is skipped.
func (tx *Tx) ApplyRadiusSessions(ctx context.Context, b nas.SessionBatch) error {
	for _, c := range b.Resets {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM radius_sessions WHERE client_id = $1`, c); err != nil {
			return wrap(err, "applying RADIUS sessions")
		}
	}
	for _, k := range b.Stops {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM radius_sessions WHERE client_id = $1 AND session_id = $2`,
			k.ClientID, k.SessionID); err != nil {
			return wrap(err, "applying RADIUS sessions")
		}
	}
	ups := slices.Clone(b.Upserts)
	slices.SortFunc(ups, func(a, b nas.Session) int {
		if a.ClientID != b.ClientID {
			return int(a.ClientID - b.ClientID)
		}
		return strings.Compare(a.SessionID, b.SessionID)
	})
	for _, s := range ups {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO radius_sessions
			(client_id, session_id, group_id, mac, username, nas_address, called_station, framed_ip,
			 started_at, updated_at, input_octets, output_octets, session_time)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
			WHERE EXISTS (SELECT 1 FROM radius_clients WHERE id = $1)
			ON CONFLICT (client_id, session_id) DO UPDATE SET
				mac = excluded.mac, username = excluded.username, nas_address = excluded.nas_address,
				called_station = excluded.called_station, framed_ip = excluded.framed_ip,
				updated_at = excluded.updated_at, input_octets = excluded.input_octets,
				output_octets = excluded.output_octets, session_time = excluded.session_time`,
			s.ClientID, s.SessionID, s.GroupID, s.MAC, s.Username, s.NASAddress, s.CalledStation, s.FramedIP,
			s.StartedAt.UTC(), s.UpdatedAt.UTC(), s.InputOctets, s.OutputOctets, s.SessionTime)
		if err != nil {
			return fmt.Errorf("recording RADIUS session %q: %w", s.SessionID, err)
		}
	}
	return nil
}

// ListRadiusSessions returns the sessions matching f updated after since,
// newest first, and the number matching.
func (tx *Tx) ListRadiusSessions(ctx context.Context, f nas.SessionFilter, since time.Time) ([]*nas.Session, int, error) {
	where := ` FROM radius_sessions WHERE (CAST($1 AS BIGINT) = 0 OR group_id = $1)
		AND (CAST($2 AS BIGINT) = 0 OR client_id = $2) AND ($3 = '' OR mac = $3) AND updated_at > $4`
	args := []any{f.GroupID, f.ClientID, f.MAC, since.UTC()}
	var total int
	if err := tx.q.QueryRowContext(ctx, `SELECT COUNT(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, wrap(err, "listing RADIUS sessions")
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT group_id, client_id, session_id, mac, username, nas_address,
		called_station, framed_ip, started_at, updated_at, input_octets, output_octets, session_time`+where+`
		ORDER BY updated_at DESC, client_id, session_id LIMIT $5 OFFSET $6`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, wrap(err, "listing RADIUS sessions")
	}
	defer rows.Close()
	out := []*nas.Session{}
	for rows.Next() {
		s := &nas.Session{}
		if err := rows.Scan(&s.GroupID, &s.ClientID, &s.SessionID, &s.MAC, &s.Username, &s.NASAddress,
			&s.CalledStation, &s.FramedIP, &s.StartedAt, &s.UpdatedAt, &s.InputOctets, &s.OutputOctets,
			&s.SessionTime); err != nil {
			return nil, 0, wrap(err, "listing RADIUS sessions")
		}
		s.StartedAt, s.UpdatedAt = s.StartedAt.UTC(), s.UpdatedAt.UTC()
		out = append(out, s)
	}
	return out, total, rows.Err()
}

// RadiusPMKs returns every stored PMK.
func (tx *Tx) RadiusPMKs(ctx context.Context) ([]radius.SealedPMK, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT psk_id, group_id, ssid, sealed FROM radius_pmks`)
	if err != nil {
		return nil, wrap(err, "reading RADIUS PMKs")
	}
	defer rows.Close()
	var out []radius.SealedPMK
	for rows.Next() {
		var p radius.SealedPMK
		if err := rows.Scan(&p.PSKID, &p.GroupID, &p.SSID, &p.Sealed); err != nil {
			return nil, wrap(err, "reading RADIUS PMKs")
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PutRadiusPMKs inserts or replaces PMKs by (psk, SSID); a PMK of a PSK
// deleted meanwhile is skipped.
func (tx *Tx) PutRadiusPMKs(ctx context.Context, pmks []radius.SealedPMK) error {
	for _, p := range pmks {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO radius_pmks (psk_id, ssid, group_id, sealed)
			SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM psks WHERE id = $1)
			ON CONFLICT (psk_id, ssid) DO UPDATE SET group_id = excluded.group_id, sealed = excluded.sealed`,
			p.PSKID, p.SSID, p.GroupID, p.Sealed)
		if err != nil {
			return fmt.Errorf("storing PMK of PSK %d: %w", p.PSKID, err)
		}
	}
	return nil
}

// DeleteRadiusPMKs removes the PSK's PMKs.
func (tx *Tx) DeleteRadiusPMKs(ctx context.Context, pskID int64) error {
	_, err := tx.q.ExecContext(ctx, `DELETE FROM radius_pmks WHERE psk_id = $1`, pskID)
	return wrap(err, "deleting RADIUS PMKs")
}
