package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"netkeep/internal/identity"
)

const userColumns = `u.id, u.username, COALESCE(u.email, ''), u.full_name, u.role, u.group_id, g.name,
	u.password_hash, u.mfa_secret, u.mfa_enabled, u.totp_last_step, u.email_verified, u.is_active,
	u.last_login, u.created_at, u.updated_at`

const userFrom = ` FROM users u JOIN groups g ON g.id = u.group_id `

func scanUser(row interface{ Scan(...any) error }) (*identity.User, error) {
	u := &identity.User{}
	var last sql.NullTime
	var role string
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.FullName, &role, &u.GroupID, &u.GroupName,
		&u.PasswordHash, &u.MFASecret, &u.MFAEnabled, &u.TOTPLastStep, &u.EmailVerified, &u.IsActive,
		&last, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return nil, wrap(err, "scanning user")
	}
	u.Role = identity.Role(role)
	u.LastLogin = timePtr(last)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

func emailValue(e string) any {
	if e == "" {
		return nil
	}
	return strings.ToLower(e)
}

const userConflict = "a user with this username or email already exists"

// CreateUser inserts u, setting ID and timestamps. Username and email are
// unique case-insensitively (conflict).
func (tx *Tx) CreateUser(ctx context.Context, u *identity.User) error {
	now := time.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	err := tx.q.QueryRowContext(ctx, `INSERT INTO users
		(username, email, full_name, role, group_id, password_hash, mfa_secret, mfa_enabled,
		 email_verified, is_active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		u.Username, emailValue(u.Email), u.FullName, string(u.Role), u.GroupID, u.PasswordHash,
		u.MFASecret, u.MFAEnabled, u.EmailVerified, u.IsActive, now, now).Scan(&u.ID)
	return classify(err, "", userConflict)
}

// UserByID returns the user or not_found.
func (tx *Tx) UserByID(ctx context.Context, id int64) (*identity.User, error) {
	u, err := scanUser(tx.q.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+`WHERE u.id = $1`, id))
	return u, classify(err, "user not found", "")
}

// UserByLogin finds a user by username or email, case-insensitively.
func (tx *Tx) UserByLogin(ctx context.Context, login string) (*identity.User, error) {
	u, err := scanUser(tx.q.QueryRowContext(ctx, `SELECT `+userColumns+userFrom+
		`WHERE lower(u.username) = lower($1) OR lower(u.email) = lower($1) ORDER BY u.id LIMIT 1`, login))
	return u, classify(err, "user not found", "")
}

// ListUsers returns users ordered by id; groupID 0 means every group.
func (tx *Tx) ListUsers(ctx context.Context, groupID int64) ([]*identity.User, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+userColumns+userFrom+
		`WHERE (CAST($1 AS BIGINT) = 0 OR u.group_id = $1) ORDER BY u.id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing users")
	}
	defer rows.Close()
	var out []*identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(err, "listing users")
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns how many users exist.
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// HasActiveRole reports whether an active user with role exists.
func (tx *Tx) HasActiveRole(ctx context.Context, role string) (bool, error) {
	var one int
	err := tx.q.QueryRowContext(ctx, `SELECT 1 FROM users WHERE role = $1 AND is_active LIMIT 1`, role).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// UpdateUser writes every mutable field of u.
func (tx *Tx) UpdateUser(ctx context.Context, u *identity.User) error {
	u.UpdatedAt = time.Now().UTC()
	res, err := tx.q.ExecContext(ctx, `UPDATE users SET username = $1, email = $2, full_name = $3,
		role = $4, group_id = $5, password_hash = $6, mfa_secret = $7, mfa_enabled = $8,
		totp_last_step = $9, email_verified = $10, is_active = $11,
		last_login = $12, updated_at = $13 WHERE id = $14`,
		u.Username, emailValue(u.Email), u.FullName, string(u.Role), u.GroupID, u.PasswordHash,
		u.MFASecret, u.MFAEnabled, u.TOTPLastStep, u.EmailVerified, u.IsActive,
		nullable(u.LastLogin), u.UpdatedAt, u.ID)
	if err != nil {
		return classify(err, "", userConflict)
	}
	return mustAffect(res, "user not found")
}

// DeleteUser removes the user.
func (tx *Tx) DeleteUser(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting user", id)
	}
	return mustAffect(res, "user not found")
}
