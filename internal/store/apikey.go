package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"netkeep/internal/apikey"
)

// API keys: scopes (the granted netkeep actions) and scope_names (the names
// as given) are stored space-separated (no vocabulary's names contain
// spaces), the secret's SHA-256 as 32 raw bytes under a unique index.

const apiKeyColumns = `k.id, k.name, k.prefix, k.hash, k.format, k.scope_names, k.scopes, k.group_id, k.created_by,
	COALESCE(u.username, ''), k.expires_at, k.revoked_at, k.last_used_at,
	k.rate_per_hour, k.rate_per_minute, k.created_at, k.provisioned_by`

const apiKeyFrom = ` FROM api_keys k LEFT JOIN users u ON u.id = k.created_by `

const apiKeyNotFound = "API key not found"

func scanAPIKey(row interface{ Scan(...any) error }) (*apikey.Key, error) {
	k := &apikey.Key{}
	var hash []byte
	var names, grants string
	var expires, revoked, used sql.NullTime
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &hash, &k.Format, &names, &grants, &k.GroupID, &k.CreatedBy,
		&k.CreatedByName, &expires, &revoked, &used, &k.RatePerHour, &k.RatePerMinute, &k.CreatedAt, &k.ProvisionedBy)
	if err != nil {
		return nil, wrap(err, "scanning API key")
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("API key %s: stored hash has %d bytes", k.ID, len(hash))
	}
	copy(k.Hash[:], hash)
	k.Scopes, k.Grants = strings.Fields(names), strings.Fields(grants)
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = timePtr(expires), timePtr(revoked), timePtr(used)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// CreateAPIKey inserts k as given; a duplicate id or hash is a conflict.
func (tx *Tx) CreateAPIKey(ctx context.Context, k *apikey.Key) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO api_keys
		(id, name, prefix, hash, format, scope_names, scopes, group_id, created_by, expires_at, revoked_at, last_used_at,
		 rate_per_hour, rate_per_minute, created_at, provisioned_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		k.ID, k.Name, k.Prefix, k.Hash[:], string(k.Format), strings.Join(k.Scopes, " "), strings.Join(k.Grants, " "), k.GroupID, k.CreatedBy,
		nullable(k.ExpiresAt), nullable(k.RevokedAt), nullable(k.LastUsedAt),
		k.RatePerHour, k.RatePerMinute, k.CreatedAt.UTC(), k.ProvisionedBy)
	return classify(err, "", "an API key with this id or secret already exists")
}

// APIKeyByID returns the key or not_found.
func (tx *Tx) APIKeyByID(ctx context.Context, id string) (*apikey.Key, error) {
	k, err := scanAPIKey(tx.q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+apiKeyFrom+`WHERE k.id = $1`, id))
	return k, classify(err, apiKeyNotFound, "")
}

// APIKeyByHash returns the key whose secret has SHA-256 hash, or not_found.
func (tx *Tx) APIKeyByHash(ctx context.Context, hash [32]byte) (*apikey.Key, error) {
	k, err := scanAPIKey(tx.q.QueryRowContext(ctx, `SELECT `+apiKeyColumns+apiKeyFrom+`WHERE k.hash = $1`, hash[:]))
	return k, classify(err, apiKeyNotFound, "")
}

// ListAPIKeys returns the keys matching f, newest first.
func (tx *Tx) ListAPIKeys(ctx context.Context, f apikey.Filter) ([]*apikey.Key, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+apiKeyColumns+apiKeyFrom+`
		WHERE (CAST($1 AS BIGINT) = 0 OR k.group_id = $1) AND (CAST($2 AS BIGINT) = 0 OR k.created_by = $2)
		ORDER BY k.created_at DESC, k.id DESC`, f.GroupID, f.CreatedBy)
	if err != nil {
		return nil, wrap(err, "listing API keys")
	}
	defer rows.Close()
	var out []*apikey.Key
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, wrap(err, "listing API keys")
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey sets revoked_at on an unrevoked key; not_found otherwise.
func (tx *Tx) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, at.UTC(), id)
	if err != nil {
		return wrap(err, "revoking API key", id)
	}
	return mustAffect(res, apiKeyNotFound)
}

// DeleteAPIKey removes the key; not_found if it does not exist.
func (tx *Tx) DeleteAPIKey(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting API key", id)
	}
	return mustAffect(res, apiKeyNotFound)
}

// TouchAPIKeys raises each key's last_used_at to the given time, never
// lowering it (another replica may have written a later one). Keys are
// updated in id order so concurrent flushes from several replicas lock rows
// in the same order and cannot deadlock.
func (tx *Tx) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		_, err := tx.q.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1
			WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, used[id].UTC(), id)
		if err != nil {
			return fmt.Errorf("recording use of API key %s: %w", id, err)
		}
	}
	return nil
}
