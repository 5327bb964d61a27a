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

const authorityColumns = `a.id, a.group_id, a.name, a.cert_der, a.key_sealed, a.fingerprint, a.origin, a.active,
	a.issuing, a.created_at, a.activated_at, a.retired_at`

func scanAuthority(row interface{ Scan(...any) error }, more ...any) (*pki.Authority, error) {
	a := &pki.Authority{}
	var activated, retired sql.NullTime
	err := row.Scan(append([]any{&a.ID, &a.GroupID, &a.Name, &a.CertDER, &a.KeySealed, &a.Fingerprint, &a.Origin,
		&a.Active, &a.Issuing, &a.CreatedAt, &activated, &retired}, more...)...)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.ActivatedAt, a.RetiredAt = a.CreatedAt.UTC(), timePtr(activated), timePtr(retired)
	return a, nil
}

// ActiveAuthority returns the server-wide issuing CA or not_found.
func (tx *Tx) ActiveAuthority(ctx context.Context) (*pki.Authority, error) {
	a, err := scanAuthority(tx.q.QueryRowContext(ctx, `SELECT `+authorityColumns+`
		FROM pki_authorities a WHERE a.issuing AND a.group_id = 0`))
	return a, classify(err, "no certificate authority", "")
}

// AuthorityByID returns the authority or not_found.
func (tx *Tx) AuthorityByID(ctx context.Context, id int64) (*pki.Authority, error) {
	a, err := scanAuthority(tx.q.QueryRowContext(ctx, `SELECT `+authorityColumns+`
		FROM pki_authorities a WHERE a.id = $1`, id))
	return a, classify(err, "certificate authority not found", "")
}

// InsertAuthority stores a and sets its id; a second issuing authority of
// its group is a conflict.
func (tx *Tx) InsertAuthority(ctx context.Context, a *pki.Authority) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO pki_authorities
		(group_id, name, cert_der, key_sealed, fingerprint, origin, active, issuing, created_at, activated_at, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		a.GroupID, a.Name, a.CertDER, a.KeySealed, a.Fingerprint, a.Origin, a.Active, a.Issuing, a.CreatedAt.UTC(),
		nullable(a.ActivatedAt), nullable(a.RetiredAt)).Scan(&a.ID)
	return classify(err, "", "a certificate authority is already active")
}

// RetireAuthority takes the authority out of service and erases its key.
func (tx *Tx) RetireAuthority(ctx context.Context, id int64, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE pki_authorities SET active = FALSE, issuing = FALSE, key_sealed = NULL,
		retired_at = $1 WHERE id = $2 AND active`, at.UTC(), id)
	if err != nil {
		return wrap(err, "retiring authority", id)
	}
	return mustAffect(res, "no such active certificate authority")
}

// GroupAuthorities returns the group's authorities and the server-wide ones
// in service, oldest first, marking those the group revoked.
func (tx *Tx) GroupAuthorities(ctx context.Context, groupID int64) ([]*pki.Authority, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+authorityColumns+`, d.revoked_at
		FROM pki_authorities a
		LEFT JOIN pki_distrust d ON d.authority_id = a.id AND d.group_id = $1
		WHERE a.group_id = $1 OR (a.group_id = 0 AND (a.active OR d.revoked_at IS NOT NULL))
		ORDER BY a.id`, groupID)
	if err != nil {
		return nil, wrap(err, "reading the group's authorities")
	}
	defer rows.Close()
	var out []*pki.Authority
	for rows.Next() {
		var distrusted sql.NullTime
		a, err := scanAuthority(rows, &distrusted)
		if err != nil {
			return nil, wrap(err, "reading the group's authorities")
		}
		a.DistrustedAt = timePtr(distrusted)
		out = append(out, a)
	}
	return out, rows.Err()
}

// IssuerID returns the group's own issuer, else the server-wide one.
func (tx *Tx) IssuerID(ctx context.Context, groupID int64) (int64, error) {
	var id int64
	err := tx.q.QueryRowContext(ctx, `SELECT id FROM pki_authorities
		WHERE issuing AND group_id IN ($1, 0) ORDER BY group_id DESC LIMIT 1`, groupID).Scan(&id)
	return id, classify(err, "no certificate authority", "")
}

// SetIssuer makes authorityID (0: none) the group's own issuer.
func (tx *Tx) SetIssuer(ctx context.Context, groupID, authorityID int64, at time.Time) error {
	if _, err := tx.q.ExecContext(ctx, `UPDATE pki_authorities SET issuing = FALSE WHERE group_id = $1 AND issuing`, groupID); err != nil {
		return wrap(err, "clearing the group's issuer")
	}
	if authorityID == 0 {
		return nil
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE pki_authorities SET issuing = TRUE, activated_at = COALESCE(activated_at, $1)
		WHERE id = $2 AND group_id = $3 AND active`, at.UTC(), authorityID, groupID)
	if err != nil {
		return wrap(err, "setting the group's issuer")
	}
	return mustAffect(res, "certificate authority not found")
}

// Distrust records the group's revocation of the authority.
func (tx *Tx) Distrust(ctx context.Context, groupID, authorityID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO pki_distrust (group_id, authority_id, revoked_at) VALUES ($1, $2, $3)`,
		groupID, authorityID, at.UTC())
	return classify(err, "", "the certificate authority is already revoked")
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
		AND (CAST($4 AS BIGINT) = 0 OR authority_id = $4) AND (CAST($5 AS BIGINT) = 0 OR group_id = $5)
		AND ($6 = '' OR kind = $6)
		ORDER BY serial`, now.UTC(), o.UserID, o.GatewayID, authorityID, o.GroupID, string(o.Kind))
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
		LEFT JOIN pki_authorities a ON a.issuing AND a.group_id = 0
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
	rows, err := tx.q.QueryContext(ctx, `SELECT a.id, c.number, c.revision, c.entries, c.this_update, c.next_update
		FROM pki_authorities a LEFT JOIN pki_crls c ON c.authority_id = a.id
		WHERE a.active ORDER BY a.id`)
	if err != nil {
		return nil, wrap(err, "reading the authorities in service")
	}
	defer rows.Close()
	for rows.Next() {
		var in pki.AuthorityCRL
		if err := rows.Scan(&in.AuthorityID, &number, &revision, &entries, &thisUpdate, &nextUpdate); err != nil {
			return nil, wrap(err, "reading the authorities in service")
		}
		if number.Valid {
			in.CRL = &pki.StoredCRL{AuthorityID: in.AuthorityID, Number: number.Int64, Revision: revision.Int64,
				Entries: int(entries.Int64), ThisUpdate: thisUpdate.Time.UTC(), NextUpdate: nextUpdate.Time.UTC()}
		}
		st.InService = append(st.InService, in)
	}
	return st, rows.Err()
}
