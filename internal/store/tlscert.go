package store

import (
	"context"
	"encoding/json"
	"fmt"

	"netkeep/internal/tlscert"
)

// The HTTPS listener's certificates; sans are stored as JSON.

const tlsCertColumns = `domain, provider, issuer, sans, serial, fingerprint, not_before, not_after, chain_pem, key_sealed, created_at`

const tlsCertNotFound = "certificate not found"

func scanTLSCertificate(row interface{ Scan(...any) error }) (*tlscert.Certificate, error) {
	c := &tlscert.Certificate{}
	var sans, chain string
	if err := row.Scan(&c.Domain, &c.Provider, &c.Issuer, &sans, &c.Serial, &c.Fingerprint, &c.NotBefore, &c.NotAfter,
		&chain, &c.KeySealed, &c.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(sans), &c.SANs); err != nil {
		return nil, fmt.Errorf("certificate %s: stored sans: %w", c.Domain, err)
	}
	c.ChainPEM = []byte(chain)
	c.NotBefore, c.NotAfter, c.CreatedAt = c.NotBefore.UTC(), c.NotAfter.UTC(), c.CreatedAt.UTC()
	return c, nil
}

// PutTLSCertificate inserts c, replacing its domain's certificate.
func (tx *Tx) PutTLSCertificate(ctx context.Context, c *tlscert.Certificate) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM tls_certificates WHERE domain = $1`, c.Domain)
	if err != nil {
		return false, wrap(err, "replacing certificate", c.Domain)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO tls_certificates (`+tlsCertColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Domain, string(c.Provider), c.Issuer, jsonText(c.SANs), c.Serial, c.Fingerprint, c.NotBefore.UTC(), c.NotAfter.UTC(),
		string(c.ChainPEM), c.KeySealed, c.CreatedAt.UTC())
	return n > 0, classify(err, "", "a certificate for this domain already exists")
}

// TLSCertificate returns domain's certificate or not_found.
func (tx *Tx) TLSCertificate(ctx context.Context, domain string) (*tlscert.Certificate, error) {
	c, err := scanTLSCertificate(tx.q.QueryRowContext(ctx, `SELECT `+tlsCertColumns+` FROM tls_certificates WHERE domain = $1`, domain))
	return c, classify(err, tlsCertNotFound, "")
}

// ListTLSCertificates returns every certificate, newest first.
func (tx *Tx) ListTLSCertificates(ctx context.Context) ([]*tlscert.Certificate, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+tlsCertColumns+` FROM tls_certificates ORDER BY created_at DESC, domain`)
	if err != nil {
		return nil, wrap(err, "listing certificates")
	}
	defer rows.Close()
	out := []*tlscert.Certificate{}
	for rows.Next() {
		c, err := scanTLSCertificate(rows)
		if err != nil {
			return nil, wrap(err, "listing certificates")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteTLSCertificate removes domain's certificate or is not_found.
func (tx *Tx) DeleteTLSCertificate(ctx context.Context, domain string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM tls_certificates WHERE domain = $1`, domain)
	if err != nil {
		return wrap(err, "deleting certificate", domain)
	}
	return mustAffect(res, tlsCertNotFound)
}
