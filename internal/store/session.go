package store

import (
	"context"
	"database/sql"
	"time"

	"netkeep/internal/identity"
)

// CreateSession inserts s.
func (tx *Tx) CreateSession(ctx context.Context, s *identity.Session) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO sessions (id, user_id, remember, ip, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, s.UserID, s.Remember, s.IP, s.CreatedAt.UTC(), s.ExpiresAt.UTC())
	return wrap(err, "creating session")
}

// SessionByID returns the session or not_found.
func (tx *Tx) SessionByID(ctx context.Context, id string) (*identity.Session, error) {
	s := &identity.Session{}
	var revoked sql.NullTime
	err := tx.q.QueryRowContext(ctx, `SELECT id, user_id, remember, ip, created_at, expires_at, revoked_at, revoke_reason
		FROM sessions WHERE id = $1`, id).
		Scan(&s.ID, &s.UserID, &s.Remember, &s.IP, &s.CreatedAt, &s.ExpiresAt, &revoked, &s.RevokeReason)
	if err != nil {
		return nil, classify(err, "session not found", "")
	}
	s.RevokedAt = timePtr(revoked)
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return s, nil
}

// RevokeSession marks the session revoked (first reason wins) and reports
// whether it was live.
func (tx *Tx) RevokeSession(ctx context.Context, id, reason string, at time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
		WHERE id = $3 AND revoked_at IS NULL`, at.UTC(), reason, id)
	if err != nil {
		return false, wrap(err, "revoking session", id)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RevokeUserSessions revokes every live session of a user and returns their ids.
func (tx *Tx) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	if err != nil {
		return nil, wrap(err, "revoking user sessions")
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap(err, "revoking user sessions")
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "revoking user sessions")
	}
	_, err = tx.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
		WHERE user_id = $3 AND revoked_at IS NULL`, at.UTC(), reason, userID)
	return ids, err
}

// RevokedSessionsSince lists sessions revoked at or after since (the window
// in which their access tokens could still verify).
func (tx *Tx) RevokedSessionsSince(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id FROM sessions WHERE revoked_at >= $1`, since.UTC())
	if err != nil {
		return nil, wrap(err, "reading revoked sessions since")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "reading revoked sessions since")
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CreateRefreshToken inserts t.
func (tx *Tx) CreateRefreshToken(ctx context.Context, t *identity.RefreshToken) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)`,
		t.Hash, t.SessionID, t.CreatedAt.UTC())
	return wrap(err, "creating refresh token")
}

// RefreshTokenByHash returns the token or not_found.
func (tx *Tx) RefreshTokenByHash(ctx context.Context, hash string) (*identity.RefreshToken, error) {
	t := &identity.RefreshToken{}
	var used sql.NullTime
	err := tx.q.QueryRowContext(ctx, `SELECT hash, session_id, created_at, used_at FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.SessionID, &t.CreatedAt, &used)
	if err != nil {
		return nil, classify(err, "refresh token not found", "")
	}
	t.UsedAt = timePtr(used)
	return t, nil
}

// UseRefreshToken marks the token rotated. It reports false when it was
// already used (by a concurrent or earlier rotation): the caller treats that
// as theft.
func (tx *Tx) UseRefreshToken(ctx context.Context, hash string, at time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, at.UTC(), hash)
	if err != nil {
		return false, wrap(err, "using refresh token")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LiveSessionsOfUser returns the user's sessions neither revoked nor
// expired at now, oldest first.
func (tx *Tx) LiveSessionsOfUser(ctx context.Context, userID int64, now time.Time) ([]*identity.Session, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, user_id, remember, ip, created_at, expires_at, revoke_reason
		FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id`, userID, now.UTC())
	if err != nil {
		return nil, wrap(err, "listing sessions")
	}
	defer rows.Close()
	var out []*identity.Session
	for rows.Next() {
		s := &identity.Session{}
		if err := rows.Scan(&s.ID, &s.UserID, &s.Remember, &s.IP, &s.CreatedAt, &s.ExpiresAt, &s.RevokeReason); err != nil {
			return nil, wrap(err, "listing sessions")
		}
		s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
		out = append(out, s)
	}
	return out, wrap(rows.Err(), "listing sessions")
}
