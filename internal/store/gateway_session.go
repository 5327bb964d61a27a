package store

import (
	"context"
	"database/sql"

	"netkeep/internal/gateway"
)

// VPN sessions reported by gateways.

const vpnSessionColumns = `id, gateway_id, group_id, user_id, username, common_name, serial, client_ip, vpn_address,
	connected_at, disconnected_at, bytes_in, bytes_out`

func scanVPNSession(row interface{ Scan(...any) error }) (*gateway.Session, error) {
	s := &gateway.Session{}
	var ended sql.NullTime
	err := row.Scan(&s.ID, &s.GatewayID, &s.GroupID, &s.UserID, &s.Username, &s.CommonName, &s.Serial, &s.ClientIP,
		&s.VPNAddress, &s.ConnectedAt, &ended, &s.BytesIn, &s.BytesOut)
	if err != nil {
		return nil, wrap(err, "scanning VPN session")
	}
	s.ConnectedAt, s.DisconnectedAt = s.ConnectedAt.UTC(), timePtr(ended)
	return s, nil
}

// InsertVPNSession stores an open session; a second open session of the
// same certificate on the gateway is a conflict.
func (tx *Tx) InsertVPNSession(ctx context.Context, s *gateway.Session) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO vpn_sessions (id, gateway_id, group_id, user_id, username, common_name,
		serial, client_ip, vpn_address, connected_at, disconnected_at, bytes_in, bytes_out)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		s.ID, s.GatewayID, s.GroupID, s.UserID, s.Username, s.CommonName, s.Serial, s.ClientIP, s.VPNAddress,
		s.ConnectedAt.UTC(), nullable(s.DisconnectedAt), s.BytesIn, s.BytesOut)
	return classify(err, "", "the client already has an open session on this gateway")
}

// ActiveVPNSession returns the gateway's open session of serial.
func (tx *Tx) ActiveVPNSession(ctx context.Context, gatewayID, serial string) (*gateway.Session, error) {
	s, err := scanVPNSession(tx.q.QueryRowContext(ctx, `SELECT `+vpnSessionColumns+` FROM vpn_sessions
		WHERE gateway_id = $1 AND serial = $2 AND disconnected_at IS NULL`, gatewayID, serial))
	return s, classify(err, "no open session for this certificate", "")
}

// EndVPNSession closes an open session with its counters.
func (tx *Tx) EndVPNSession(ctx context.Context, s *gateway.Session) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE vpn_sessions SET disconnected_at = $1, bytes_in = $2, bytes_out = $3
		WHERE id = $4 AND disconnected_at IS NULL`, nullable(s.DisconnectedAt), s.BytesIn, s.BytesOut, s.ID)
	if err != nil {
		return wrap(err, "ending VPN session")
	}
	return mustAffect(res, "no open session for this certificate")
}

// ListVPNSessions returns the sessions matching q, newest first, and their
// total count.
func (tx *Tx) ListVPNSessions(ctx context.Context, q gateway.SessionQuery) ([]*gateway.Session, int, error) {
	const where = ` FROM vpn_sessions WHERE (CAST($1 AS BIGINT) = 0 OR group_id = $1)
		AND (CAST($2 AS TEXT) = '' OR gateway_id = $2) AND (NOT CAST($3 AS BOOLEAN) OR disconnected_at IS NULL)`
	var total int
	if err := tx.q.QueryRowContext(ctx, `SELECT count(*)`+where, q.GroupID, q.GatewayID, q.ActiveOnly).Scan(&total); err != nil {
		return nil, 0, wrap(err, "listing VPN sessions")
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT `+vpnSessionColumns+where+
		` ORDER BY connected_at DESC, id DESC LIMIT $4 OFFSET $5`, q.GroupID, q.GatewayID, q.ActiveOnly, pageLimit(q.Limit), q.Offset)
	if err != nil {
		return nil, 0, wrap(err, "listing VPN sessions")
	}
	defer rows.Close()
	out := []*gateway.Session{}
	for rows.Next() {
		s, err := scanVPNSession(rows)
		if err != nil {
			return nil, 0, wrap(err, "listing VPN sessions")
		}
		out = append(out, s)
	}
	return out, total, rows.Err()
}

// VPNSession returns the session with id, open or closed.
func (tx *Tx) VPNSession(ctx context.Context, id string) (*gateway.Session, error) {
	s, err := scanVPNSession(tx.q.QueryRowContext(ctx, `SELECT `+vpnSessionColumns+` FROM vpn_sessions WHERE id = $1`, id))
	return s, classify(err, "session not found", "")
}
