package store

import (
	"context"
	"database/sql"
	"time"

	"netkeep/internal/pki"
)

// PKI: the CA authorities, the issued certificates, the shared counters and
// the stored CRL (see migrations 00006_pki.sql).

const certificateColumns = `serial, authority_id, kind, common_name, COALESCE(user_id, 0), COALESCE(gateway_id, ''),
	group_id, not_before, not_after, der, revoked_at, COALESCE(revoke_reason, ''), created_at`

const certificateNotFound = "certificate not found"

func scanCertificate(row interface{ Scan(...any) error }) (*pki.Certificate, error) {
	c := &pki.Certificate{}
	var serial, kind, reason string
	var revoked sql.NullTime
	err := row.Scan(&serial, &c.AuthorityID, &kind, &c.CommonName, &c.UserID, &c.GatewayID,
		&c.GroupID, &c.NotBefore, &c.NotAfter, &c.DER, &revoked, &reason, &c.CreatedAt)
	if err != nil {
		return nil, wrap(err, "scanning certificate")
	}
	c.Serial, c.Kind, c.Reason = pki.Serial(serial), pki.Kind(kind), pki.Reason(reason)
	c.NotBefore, c.NotAfter, c.CreatedAt = c.NotBefore.UTC(), c.NotAfter.UTC(), c.CreatedAt.UTC()
	c.RevokedAt = timePtr(revoked)
	return c, nil
}

// ActiveAuthority returns the active CA or not_found.
func (tx *Tx) ActiveAuthority(ctx context.Context) (*pki.Authority, error) {
	a := &pki.Authority{}
	var retired sql.NullTime
	err := tx.q.QueryRowContext(ctx, `SELECT id, cert_der, key_sealed, fingerprint, origin, active, created_at, retired_at
		FROM pki_authorities WHERE active`).
		Scan(&a.ID, &a.CertDER, &a.KeySealed, &a.Fingerprint, &a.Origin, &a.Active, &a.CreatedAt, &retired)
	if err != nil {
		return nil, classify(err, "no certificate authority", "")
	}
	a.CreatedAt, a.RetiredAt = a.CreatedAt.UTC(), timePtr(retired)
	return a, nil
}

// InsertAuthority stores a and sets its id; a second active one is a conflict.
func (tx *Tx) InsertAuthority(ctx context.Context, a *pki.Authority) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO pki_authorities
		(cert_der, key_sealed, fingerprint, origin, active, created_at, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		a.CertDER, a.KeySealed, a.Fingerprint, a.Origin, a.Active, a.CreatedAt.UTC(), nullable(a.RetiredAt)).Scan(&a.ID)
	return classify(err, "", "a certificate authority is already active")
}

// RetireAuthority deactivates the authority and erases its sealed key.
func (tx *Tx) RetireAuthority(ctx context.Context, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE pki_authorities SET active = FALSE, key_sealed = NULL, retired_at = $1
		WHERE id = $2 AND active`, at.UTC(), id)
	if err != nil {
		return wrap(err, "retiring authority", id)
	}
	return mustAffect(res, "no such active certificate authority")
}

// CountCertificates counts the certificates the authority issued.
func (tx *Tx) CountCertificates(ctx context.Context, authorityID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM pki_certificates WHERE authority_id = $1`, authorityID).Scan(&n)
	return n, err
}

// InsertCertificate records c; a duplicate serial is a conflict.
func (tx *Tx) InsertCertificate(ctx context.Context, c *pki.Certificate) error {
	var user, gateway any
	if c.UserID != 0 {
		user = c.UserID
	}
	if c.GatewayID != "" {
		gateway = c.GatewayID
	}
	var reason any
	if c.RevokedAt != nil {
		reason = string(c.Reason)
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO pki_certificates
		(serial, authority_id, kind, common_name, user_id, gateway_id, group_id, not_before, not_after, der,
		 revoked_at, revoke_reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		string(c.Serial), c.AuthorityID, string(c.Kind), c.CommonName, user, gateway, c.GroupID,
		c.NotBefore.UTC(), c.NotAfter.UTC(), c.DER, nullable(c.RevokedAt), reason, c.CreatedAt.UTC())
	return classify(err, "", "a certificate with this serial already exists")
}

// CertificateBySerial returns the certificate or not_found.
func (tx *Tx) CertificateBySerial(ctx context.Context, serial pki.Serial) (*pki.Certificate, error) {
	c, err := scanCertificate(tx.q.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM pki_certificates WHERE serial = $1`, string(serial)))
	return c, classify(err, certificateNotFound, "")
}

// UnrevokedCertificates returns o's (or, for a zero Owner, the authority's)
// unrevoked certificates that are unexpired at now, in serial order.
func (tx *Tx) UnrevokedCertificates(ctx context.Context, o pki.Owner, authorityID int64, now time.Time) ([]*pki.Certificate, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+certificateColumns+` FROM pki_certificates
		WHERE revoked_at IS NULL AND not_after > $1
		AND (CAST($2 AS BIGINT) = 0 OR user_id = $2) AND ($3 = '' OR gateway_id = $3)
		AND (CAST($4 AS BIGINT) = 0 OR authority_id = $4)
		ORDER BY serial`, now.UTC(), o.UserID, o.GatewayID, authorityID)
	if err != nil {
		return nil, wrap(err, "reading unrevoked certificates")
	}
	defer rows.Close()
	var out []*pki.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, wrap(err, "reading unrevoked certificates")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeCertificate marks an unrevoked certificate revoked; not_found otherwise.
func (tx *Tx) RevokeCertificate(ctx context.Context, serial pki.Serial, at time.Time, reason pki.Reason) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE pki_certificates SET revoked_at = $1, revoke_reason = $2
		WHERE serial = $3 AND revoked_at IS NULL`, at.UTC(), string(reason), string(serial))
	if err != nil {
		return wrap(err, "revoking certificate")
	}
	return mustAffect(res, certificateNotFound)
}

// RevokedEntries lists the authority's revoked certificates unexpired at now.
func (tx *Tx) RevokedEntries(ctx context.Context, authorityID int64, now time.Time) ([]pki.Revocation, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT serial, revoked_at, revoke_reason FROM pki_certificates
		WHERE authority_id = $1 AND revoked_at IS NOT NULL AND not_after > $2
		ORDER BY serial`, authorityID, now.UTC())
	if err != nil {
		return nil, wrap(err, "reading revoked entries")
	}
	defer rows.Close()
	var out []pki.Revocation
	for rows.Next() {
		var serial, reason string
		var at time.Time
		if err := rows.Scan(&serial, &at, &reason); err != nil {
			return nil, wrap(err, "reading revoked entries")
		}
		out = append(out, pki.Revocation{Serial: pki.Serial(serial), RevokedAt: at.UTC(), Reason: pki.Reason(reason)})
	}
	return out, rows.Err()
}

// BumpRevision records a change of the revoked set.
func (tx *Tx) BumpRevision(ctx context.Context) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE pki_state SET revision = revision + 1 WHERE id = 1`)
	return wrap(err, "bumping revision")
}

// NextCRLNumber allocates the next CRL number. The row lock it takes on
// PostgreSQL (and the single writer on SQLite) serialises concurrent
// regenerations until commit.
func (tx *Tx) NextCRLNumber(ctx context.Context) (number, revision int64, err error) {
	err = tx.q.QueryRowContext(ctx, `UPDATE pki_state SET crl_number = crl_number + 1 WHERE id = 1
		RETURNING crl_number, revision`).Scan(&number, &revision)
	return number, revision, err
}

// SaveCRL stores c unless a CRL with a number at least as large is stored.
func (tx *Tx) SaveCRL(ctx context.Context, c *pki.StoredCRL) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO pki_crls
		(authority_id, number, revision, entries, der, this_update, next_update)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (authority_id) DO UPDATE SET number = excluded.number, revision = excluded.revision,
			entries = excluded.entries, der = excluded.der, this_update = excluded.this_update,
			next_update = excluded.next_update
		WHERE pki_crls.number < excluded.number`,
		c.AuthorityID, c.Number, c.Revision, c.Entries, c.DER, c.ThisUpdate.UTC(), c.NextUpdate.UTC())
	if err != nil {
		return false, wrap(err, "saving CRL")
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// LoadCRL returns the authority's stored CRL or not_found.
func (tx *Tx) LoadCRL(ctx context.Context, authorityID int64) (*pki.StoredCRL, error) {
	c := &pki.StoredCRL{AuthorityID: authorityID}
	err := tx.q.QueryRowContext(ctx, `SELECT number, revision, entries, der, this_update, next_update
		FROM pki_crls WHERE authority_id = $1`, authorityID).
		Scan(&c.Number, &c.Revision, &c.Entries, &c.DER, &c.ThisUpdate, &c.NextUpdate)
	if err != nil {
		return nil, classify(err, "no CRL stored", "")
	}
	c.ThisUpdate, c.NextUpdate = c.ThisUpdate.UTC(), c.NextUpdate.UTC()
	return c, nil
}

// PKIStatus reads the shared PKI state without any DER.
func (tx *Tx) PKIStatus(ctx context.Context) (*pki.Status, error) {
	st := &pki.Status{}
	var crlAuthority, number, revision, entries sql.NullInt64
	var thisUpdate, nextUpdate sql.NullTime
	err := tx.q.QueryRowContext(ctx, `SELECT s.revision, COALESCE(a.id, 0),
			c.authority_id, c.number, c.revision, c.entries, c.this_update, c.next_update
		FROM pki_state s
		LEFT JOIN pki_authorities a ON a.active
		LEFT JOIN pki_crls c ON c.authority_id = a.id
		WHERE s.id = 1`).
		Scan(&st.Revision, &st.AuthorityID, &crlAuthority, &number, &revision, &entries, &thisUpdate, &nextUpdate)
	if err != nil {
		return nil, wrap(err, "reading PKI status")
	}
	if crlAuthority.Valid {
		st.CRL = &pki.StoredCRL{AuthorityID: crlAuthority.Int64, Number: number.Int64, Revision: revision.Int64,
			Entries: int(entries.Int64), ThisUpdate: thisUpdate.Time.UTC(), NextUpdate: nextUpdate.Time.UTC()}
	}
	return st, nil
}
