package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"netkeep/internal/sso"
)

// Identity providers, their links to users and consumed SAML assertions.
// settings is JSON; client_secret the sealed secret.

const ssoProviderColumns = `id, name, type, display_name, group_id, settings, client_secret, managed, created_at, updated_at`

func scanSSOProvider(row interface{ Scan(...any) error }) (*sso.Provider, error) {
	p := &sso.Provider{}
	var kind, settings string
	err := row.Scan(&p.ID, &p.Name, &kind, &p.DisplayName, &p.GroupID, &settings, &p.SealedSecret, &p.Managed, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return nil, err
	}
	p.Kind = sso.Kind(kind)
	if err := json.Unmarshal([]byte(settings), &p.Settings); err != nil {
		return nil, fmt.Errorf("identity provider %s: settings: %w", p.Name, err)
	}
	p.HasSecret = len(p.SealedSecret) > 0
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// CreateSSOProvider inserts p and sets its id; a taken name is a conflict.
func (tx *Tx) CreateSSOProvider(ctx context.Context, p *sso.Provider) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return err
	}
	err = tx.q.QueryRowContext(ctx, `INSERT INTO sso_providers
		(name, type, display_name, group_id, settings, client_secret, managed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		p.Name, string(p.Kind), p.DisplayName, p.GroupID, string(settings), p.SealedSecret, p.Managed, p.CreatedAt.UTC(), p.UpdatedAt.UTC()).
		Scan(&p.ID)
	return classify(err, "", "an identity provider with this name exists")
}

// UpdateSSOProvider writes p's settings, secret and group.
func (tx *Tx) UpdateSSOProvider(ctx context.Context, p *sso.Provider) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE sso_providers SET display_name = $1, group_id = $2, settings = $3,
		client_secret = $4, managed = $5, updated_at = $6 WHERE id = $7`,
		p.DisplayName, p.GroupID, string(settings), p.SealedSecret, p.Managed, p.UpdatedAt.UTC(), p.ID)
	if err != nil {
		return wrap(err, "updating identity provider", p.ID)
	}
	return mustAffect(res, "identity provider not found")
}

// DeleteSSOProvider deletes a provider and its links.
func (tx *Tx) DeleteSSOProvider(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM sso_providers WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting identity provider", id)
	}
	return mustAffect(res, "identity provider not found")
}

// SSOProviderByName returns a provider (case-insensitive name) or not_found.
func (tx *Tx) SSOProviderByName(ctx context.Context, name string) (*sso.Provider, error) {
	p, err := scanSSOProvider(tx.q.QueryRowContext(ctx, `SELECT `+ssoProviderColumns+` FROM sso_providers WHERE lower(name) = lower($1)`, name))
	return p, classify(err, "identity provider not found", "")
}

// ListSSOProviders lists providers by name, of one group or all (0).
func (tx *Tx) ListSSOProviders(ctx context.Context, groupID int64) ([]*sso.Provider, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+ssoProviderColumns+` FROM sso_providers
		WHERE $1 = 0 OR group_id = $1 ORDER BY name`, groupID)
	if err != nil {
		return nil, wrap(err, "listing identity providers")
	}
	defer rows.Close()
	var out []*sso.Provider
	for rows.Next() {
		p, err := scanSSOProvider(rows)
		if err != nil {
			return nil, wrap(err, "listing identity providers")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "listing identity providers")
}

// SSOLinkedUser returns the user linked to a provider's subject, or not_found.
func (tx *Tx) SSOLinkedUser(ctx context.Context, providerID int64, subject string) (int64, error) {
	var id int64
	err := tx.q.QueryRowContext(ctx, `SELECT user_id FROM sso_links WHERE provider_id = $1 AND subject = $2`, providerID, subject).Scan(&id)
	return id, classify(err, "no linked user", "")
}

// CreateSSOLink links a provider's subject to a user.
func (tx *Tx) CreateSSOLink(ctx context.Context, providerID int64, subject string, userID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO sso_links (provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4)`,
		providerID, subject, userID, at.UTC())
	return classify(err, "", "this identity is already linked")
}

// ConsumeSSOAssertion records an assertion id as used and reports whether it
// was fresh; expired records are dropped on the way.
func (tx *Tx) ConsumeSSOAssertion(ctx context.Context, id string, expires, now time.Time) (bool, error) {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM sso_assertions WHERE expires_at < $1`, now.UTC()); err != nil {
		return false, wrap(err, "pruning SAML assertions")
	}
	res, err := tx.q.ExecContext(ctx, `INSERT INTO sso_assertions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		id, expires.UTC())
	if err != nil {
		return false, wrap(err, "recording SAML assertion", id)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// scanNullTime keeps the zero time for NULL.
func scanNullTime(n sql.NullTime) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return n.Time.UTC()
}
