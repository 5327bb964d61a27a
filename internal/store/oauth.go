package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"netkeep/internal/sso"
)

// OAuth2 clients, authorization requests, refresh tokens and signing keys
// of netkeep's OpenID provider. Redirect URIs are newline-separated, scopes
// space-separated; secrets and tokens are stored as SHA-256 only, signing
// keys sealed.

const oauthClientColumns = `id, name, group_id, COALESCE(created_by, 0), secret_hash, redirect_uris, scopes, created_at`

func scanOAuthClient(row interface{ Scan(...any) error }) (*sso.Client, error) {
	c := &sso.Client{}
	var hash []byte
	var uris, scopes string
	if err := row.Scan(&c.ID, &c.Name, &c.GroupID, &c.CreatedBy, &hash, &uris, &scopes, &c.CreatedAt); err != nil {
		return nil, err
	}
	switch len(hash) {
	case 0:
		c.Public = true
	case len(c.SecretHash):
		copy(c.SecretHash[:], hash)
	default:
		return nil, fmt.Errorf("OAuth2 client %s: stored hash has %d bytes", c.ID, len(hash))
	}
	c.RedirectURIs, c.Scopes = strings.Split(uris, "\n"), strings.Fields(scopes)
	c.CreatedAt = c.CreatedAt.UTC()
	return c, nil
}

// CreateOAuthClient inserts c.
func (tx *Tx) CreateOAuthClient(ctx context.Context, c *sso.Client) error {
	var hash any
	if !c.Public {
		hash = c.SecretHash[:]
	}
	var by any
	if c.CreatedBy != 0 {
		by = c.CreatedBy
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_clients (id, name, group_id, created_by, secret_hash, redirect_uris, scopes, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.ID, c.Name, c.GroupID, by, hash,
		strings.Join(c.RedirectURIs, "\n"), strings.Join(c.Scopes, " "), c.CreatedAt.UTC())
	return classify(err, "", "an OAuth2 client with this id exists")
}

// OAuthClientByID returns a client or not_found.
func (tx *Tx) OAuthClientByID(ctx context.Context, id string) (*sso.Client, error) {
	c, err := scanOAuthClient(tx.q.QueryRowContext(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE id = $1`, id))
	return c, classify(err, "OAuth2 client not found", "")
}

// ListOAuthClients lists a group's clients (0: all), oldest first.
func (tx *Tx) ListOAuthClients(ctx context.Context, groupID int64) ([]*sso.Client, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients
		WHERE $1 = 0 OR group_id = $1 ORDER BY created_at, id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing OAuth2 clients")
	}
	defer rows.Close()
	var out []*sso.Client
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, wrap(err, "listing OAuth2 clients")
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "listing OAuth2 clients")
}

// DeleteOAuthClient deletes a client with its requests and refresh tokens.
func (tx *Tx) DeleteOAuthClient(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_clients WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting OAuth2 client", id)
	}
	return mustAffect(res, "OAuth2 client not found")
}

// OAuthClientSessions lists the live sessions of a client's grants.
func (tx *Tx) OAuthClientSessions(ctx context.Context, clientID string) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT g.session_id FROM oauth_grants g
		JOIN sessions s ON s.id = g.session_id WHERE g.client_id = $1 AND s.revoked_at IS NULL`, clientID)
	if err != nil {
		return nil, wrap(err, "listing OAuth2 client grants", clientID)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "listing OAuth2 client grants", clientID)
		}
		out = append(out, id)
	}
	return out, wrap(rows.Err(), "listing OAuth2 client grants", clientID)
}

const authRequestColumns = `id, client_id, request, COALESCE(user_id, 0), auth_time, COALESCE(code_hash, ''), code_expires_at, created_at, expires_at`

func scanAuthRequest(row interface{ Scan(...any) error }) (*sso.AuthRequest, error) {
	r := &sso.AuthRequest{}
	var req string
	var authTime, codeExp sql.NullTime
	if err := row.Scan(&r.ID, &r.ClientID, &req, &r.UserID, &authTime, &r.CodeHash, &codeExp, &r.CreatedAt, &r.ExpiresAt); err != nil {
		return nil, err
	}
	r.Request = []byte(req)
	r.AuthTime, r.CodeExpiresAt = scanNullTime(authTime), scanNullTime(codeExp)
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	return r, nil
}

// CreateAuthRequest inserts r.
func (tx *Tx) CreateAuthRequest(ctx context.Context, r *sso.AuthRequest) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_requests (id, client_id, request, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, r.ID, r.ClientID, string(r.Request), r.CreatedAt.UTC(), r.ExpiresAt.UTC())
	return wrap(err, "creating authorization request")
}

// AuthRequestByID returns a request or not_found.
func (tx *Tx) AuthRequestByID(ctx context.Context, id string) (*sso.AuthRequest, error) {
	r, err := scanAuthRequest(tx.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oauth_requests WHERE id = $1`, id))
	return r, classify(err, "authorization request not found", "")
}

// AuthRequestByCode returns the request holding a code hash, or not_found.
func (tx *Tx) AuthRequestByCode(ctx context.Context, codeHash string) (*sso.AuthRequest, error) {
	r, err := scanAuthRequest(tx.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oauth_requests WHERE code_hash = $1`, codeHash))
	return r, classify(err, "authorization code not found", "")
}

// UpdateAuthRequest writes the consent and code of r.
func (tx *Tx) UpdateAuthRequest(ctx context.Context, r *sso.AuthRequest) error {
	var user, code any
	if r.UserID != 0 {
		user = r.UserID
	}
	if r.CodeHash != "" {
		code = r.CodeHash
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE oauth_requests SET user_id = $1, auth_time = $2, code_hash = $3, code_expires_at = $4
		WHERE id = $5`, user, nullableTime(r.AuthTime), code, nullableTime(r.CodeExpiresAt), r.ID)
	if err != nil {
		return wrap(err, "updating authorization request", r.ID)
	}
	return mustAffect(res, "authorization request not found")
}

// DeleteAuthRequest deletes a request (no error when gone).
func (tx *Tx) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_requests WHERE id = $1`, id)
	return wrap(err, "deleting authorization request", id)
}

// DeleteExpiredAuthRequests deletes requests past their expiry.
func (tx *Tx) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_requests WHERE expires_at < $1`, now.UTC())
	if err != nil {
		return 0, wrap(err, "deleting expired authorization requests")
	}
	return res.RowsAffected()
}

// CreateOAuthGrant inserts g.
func (tx *Tx) CreateOAuthGrant(ctx context.Context, g *sso.Grant) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_grants (session_id, client_id, user_id, scopes, auth_time, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, g.SessionID, g.ClientID, g.UserID, strings.Join(g.Scopes, " "), g.AuthTime.UTC(), g.CreatedAt.UTC())
	return wrap(err, "creating OAuth2 grant", g.SessionID)
}

// OAuthGrant returns the grant of a session or not_found.
func (tx *Tx) OAuthGrant(ctx context.Context, sessionID string) (*sso.Grant, error) {
	g := &sso.Grant{}
	var scopes string
	err := tx.q.QueryRowContext(ctx, `SELECT session_id, client_id, user_id, scopes, auth_time, created_at
		FROM oauth_grants WHERE session_id = $1`, sessionID).Scan(&g.SessionID, &g.ClientID, &g.UserID, &scopes, &g.AuthTime, &g.CreatedAt)
	if err != nil {
		return nil, classify(err, "OAuth2 grant not found", "")
	}
	g.Scopes = strings.Fields(scopes)
	g.AuthTime, g.CreatedAt = g.AuthTime.UTC(), g.CreatedAt.UTC()
	return g, nil
}

// CreateOAuthRefreshToken inserts t.
func (tx *Tx) CreateOAuthRefreshToken(ctx context.Context, t *sso.RefreshToken) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (hash, session_id, client_id, user_id, scopes, auth_time, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.Hash, t.SessionID, t.ClientID, t.UserID, strings.Join(t.Scopes, " "),
		t.AuthTime.UTC(), t.CreatedAt.UTC())
	return wrap(err, "creating OAuth2 refresh token")
}

// OAuthRefreshTokenByHash returns a refresh token or not_found.
func (tx *Tx) OAuthRefreshTokenByHash(ctx context.Context, hash string) (*sso.RefreshToken, error) {
	t := &sso.RefreshToken{}
	var scopes string
	var used sql.NullTime
	err := tx.q.QueryRowContext(ctx, `SELECT hash, session_id, client_id, user_id, scopes, auth_time, created_at, used_at
		FROM oauth_refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.SessionID, &t.ClientID, &t.UserID, &scopes, &t.AuthTime, &t.CreatedAt, &used)
	if err != nil {
		return nil, classify(err, "refresh token not found", "")
	}
	t.Scopes, t.UsedAt = strings.Fields(scopes), timePtr(used)
	t.AuthTime, t.CreatedAt = t.AuthTime.UTC(), t.CreatedAt.UTC()
	return t, nil
}

// UseOAuthRefreshToken marks an unused token used and returns it; a token
// already used (or unknown) is not_found. One statement, so two concurrent
// rotations of one token cannot both succeed.
func (tx *Tx) UseOAuthRefreshToken(ctx context.Context, hash string, at time.Time) (*sso.RefreshToken, error) {
	t := &sso.RefreshToken{}
	var scopes string
	err := tx.q.QueryRowContext(ctx, `UPDATE oauth_refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL
		RETURNING hash, session_id, client_id, user_id, scopes, auth_time, created_at`, at.UTC(), hash).
		Scan(&t.Hash, &t.SessionID, &t.ClientID, &t.UserID, &scopes, &t.AuthTime, &t.CreatedAt)
	if err != nil {
		return nil, classify(err, "refresh token not found or already used", "")
	}
	used := at.UTC()
	t.Scopes, t.UsedAt = strings.Fields(scopes), &used
	t.AuthTime, t.CreatedAt = t.AuthTime.UTC(), t.CreatedAt.UTC()
	return t, nil
}

// CreateSigningKey inserts a signing key.
func (tx *Tx) CreateSigningKey(ctx context.Context, k *sso.SigningKey) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_keys (id, private_key, created_at) VALUES ($1, $2, $3)`,
		k.ID, k.PrivateKey, k.CreatedAt.UTC())
	return wrap(err, "creating signing key", k.ID)
}

// ListSigningKeys lists keys made at or after since, newest first.
func (tx *Tx) ListSigningKeys(ctx context.Context, since time.Time) ([]*sso.SigningKey, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, private_key, created_at FROM oauth_keys WHERE created_at >= $1
		ORDER BY created_at DESC, id`, since.UTC())
	if err != nil {
		return nil, wrap(err, "listing signing keys")
	}
	defer rows.Close()
	var out []*sso.SigningKey
	for rows.Next() {
		k := &sso.SigningKey{}
		if err := rows.Scan(&k.ID, &k.PrivateKey, &k.CreatedAt); err != nil {
			return nil, wrap(err, "listing signing keys")
		}
		k.CreatedAt = k.CreatedAt.UTC()
		out = append(out, k)
	}
	return out, wrap(rows.Err(), "listing signing keys")
}
