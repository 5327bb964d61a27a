package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"netkeep/internal/federation"
)

// Federation: join tokens, peers and the apps each peer shares.

const federationPeerNotFound = "peer not found"

// InsertFederationToken stores a join token (its secret's hash only).
func (tx *Tx) InsertFederationToken(ctx context.Context, t *federation.Token) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO federation_tokens (id, secret_hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, t.ID, t.SecretHash, t.CreatedBy, t.CreatedAt.UTC(), t.ExpiresAt.UTC())
	return classify(err, "", "a join token with this id already exists")
}

// UseFederationToken marks an unused, unexpired token used; one UPDATE,
// so two redemptions cannot both see it unused.
func (tx *Tx) UseFederationToken(ctx context.Context, hash []byte, peerID string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE federation_tokens SET used_at = $1, used_by = $2
		WHERE secret_hash = $3 AND used_at IS NULL AND expires_at > $1`, at.UTC(), peerID, hash)
	if err != nil {
		return wrap(err, "using join token")
	}
	return mustAffect(res, "join token not found")
}

const federationPeerColumns = `p.id, p.name, p.url, p.ca_fingerprint, p.status, p.last_error, p.last_sync_at, p.created_at,
	(SELECT count(*) FROM federation_apps a WHERE a.peer_id = p.id)`

func scanFederationPeer(row interface{ Scan(...any) error }) (*federation.Peer, error) {
	p := &federation.Peer{}
	var synced sql.NullTime
	if err := row.Scan(&p.ID, &p.Name, &p.URL, &p.CAFingerprint, &p.Status, &p.LastError, &synced, &p.CreatedAt, &p.Apps); err != nil {
		return nil, err
	}
	p.LastSyncAt, p.CreatedAt = timePtr(synced), p.CreatedAt.UTC()
	return p, nil
}

// SaveFederationPeer inserts p, or updates the name, URL and pin of a
// peer that joins again.
func (tx *Tx) SaveFederationPeer(ctx context.Context, p *federation.Peer) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO federation_peers (id, name, url, ca_fingerprint, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url, ca_fingerprint = excluded.ca_fingerprint,
			status = excluded.status, last_error = ''`,
		p.ID, p.Name, p.URL, p.CAFingerprint, p.Status, p.CreatedAt.UTC())
	return classify(err, "", "a peer with this CA already exists")
}

// FederationPeer returns one peer or not_found.
func (tx *Tx) FederationPeer(ctx context.Context, id string) (*federation.Peer, error) {
	p, err := scanFederationPeer(tx.q.QueryRowContext(ctx, `SELECT `+federationPeerColumns+` FROM federation_peers p WHERE p.id = $1`, id))
	return p, classify(err, federationPeerNotFound, "")
}

// FederationPeers returns every peer by name.
func (tx *Tx) FederationPeers(ctx context.Context) ([]*federation.Peer, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+federationPeerColumns+` FROM federation_peers p ORDER BY p.name, p.id`)
	if err != nil {
		return nil, wrap(err, "listing peers")
	}
	defer rows.Close()
	out := []*federation.Peer{}
	for rows.Next() {
		p, err := scanFederationPeer(rows)
		if err != nil {
			return nil, wrap(err, "listing peers")
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteFederationPeer removes a peer and its apps.
func (tx *Tx) DeleteFederationPeer(ctx context.Context, id string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM federation_apps WHERE peer_id = $1`, id); err != nil {
		return wrap(err, "deleting peer apps", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM federation_peers WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting peer", id)
	}
	return mustAffect(res, federationPeerNotFound)
}

// SetFederationPeerState records a sync's outcome.
func (tx *Tx) SetFederationPeerState(ctx context.Context, id, status, lastError string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE federation_peers SET status = $1, last_error = $2, last_sync_at = $3 WHERE id = $4`,
		status, lastError, at.UTC(), id)
	if err != nil {
		return wrap(err, "recording peer sync", id)
	}
	return mustAffect(res, federationPeerNotFound)
}

// ReplaceFederationApps makes apps the peer's shared apps.
func (tx *Tx) ReplaceFederationApps(ctx context.Context, peerID string, apps []federation.RemoteApp) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM federation_apps WHERE peer_id = $1`, peerID); err != nil {
		return wrap(err, "replacing peer apps", peerID)
	}
	for _, a := range apps {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO federation_apps
			(peer_id, app_id, name, icon, tags, auth, scopes, websocket, health, synced_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			peerID, a.App.ID, a.App.Name, a.App.Icon, jsonText(nonNil(a.App.Tags)), a.App.Auth, jsonText(nonNil(a.App.Scopes)),
			a.App.WebSocket, a.App.Health, a.SyncedAt.UTC()); err != nil {
			return classify(wrap(err, "storing peer app", a.App.ID), "", "the peer shares one app twice")
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FederationApps returns the apps of every existing peer, by peer and id.
func (tx *Tx) FederationApps(ctx context.Context) ([]federation.RemoteApp, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT a.peer_id, a.app_id, a.name, a.icon, a.tags, a.auth, a.scopes, a.websocket, a.health, a.synced_at
		FROM federation_apps a JOIN federation_peers p ON p.id = a.peer_id ORDER BY a.peer_id, a.app_id`)
	if err != nil {
		return nil, wrap(err, "listing peer apps")
	}
	defer rows.Close()
	var out []federation.RemoteApp
	for rows.Next() {
		var a federation.RemoteApp
		var tags, scopes string
		if err := rows.Scan(&a.PeerID, &a.App.ID, &a.App.Name, &a.App.Icon, &tags, &a.App.Auth, &scopes, &a.App.WebSocket,
			&a.App.Health, &a.SyncedAt); err != nil {
			return nil, wrap(err, "listing peer apps")
		}
		if err := json.Unmarshal([]byte(tags), &a.App.Tags); err != nil {
			return nil, fmt.Errorf("peer app %s: stored tags: %w", a.App.ID, err)
		}
		if err := json.Unmarshal([]byte(scopes), &a.App.Scopes); err != nil {
			return nil, fmt.Errorf("peer app %s: stored scopes: %w", a.App.ID, err)
		}
		a.SyncedAt = a.SyncedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// FederationIdentity returns the stored federation certificate for names,
// or not_found.
func (tx *Tx) FederationIdentity(ctx context.Context, names string) (*federation.StoredIdentity, error) {
	id := &federation.StoredIdentity{Names: names}
	err := tx.q.QueryRowContext(ctx, `SELECT ca_fingerprint, cert_pem, key_sealed, not_after FROM federation_identities
		WHERE names = $1`, names).Scan(&id.CAFingerprint, &id.CertPEM, &id.KeySealed, &id.NotAfter)
	if err != nil {
		return nil, classify(err, "federation certificate not found", "")
	}
	id.NotAfter = id.NotAfter.UTC()
	return id, nil
}

// SaveFederationIdentity stores id, replacing the certificate stored for
// the same names.
func (tx *Tx) SaveFederationIdentity(ctx context.Context, id *federation.StoredIdentity, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO federation_identities (names, ca_fingerprint, cert_pem, key_sealed, not_after, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (names) DO UPDATE SET ca_fingerprint = excluded.ca_fingerprint, cert_pem = excluded.cert_pem,
			key_sealed = excluded.key_sealed, not_after = excluded.not_after, created_at = excluded.created_at`,
		id.Names, id.CAFingerprint, id.CertPEM, id.KeySealed, id.NotAfter.UTC(), at.UTC())
	return wrap(err, "storing the federation certificate")
}
