package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strconv"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// ImportResult says what Import did.
type ImportResult struct {
	CA        *CA
	Unchanged bool   // the certificate was already the active CA
	Replaced  string // fingerprint of the CA it replaced, if any
	Revoked   int    // unexpired certificates of the replaced CA revoked (--force)
}

// Import makes an existing CA (PEM certificate and unencrypted PEM private
// key: PKCS #8, SEC 1 or PKCS #1) the active one. The certificate must be a
// CA (basicConstraints CA:TRUE; keyCertSign and cRLSign if key usage is
// given), currently valid, and the key must match it.
//
// A CA that already issued certificates is replaced only with force; its
// unexpired, unrevoked certificates are then revoked (cessationOfOperation),
// since nothing will trust them once gateways switch CAs. The retired CA's
// key is erased.
//
// Errors: invalid (unusable certificate or key, mismatch), conflict (the
// current CA has issued certificates and force is false).
func (s *Service) Import(ctx context.Context, src audit.Source, certPEM, keyPEM []byte, force bool) (*ImportResult, error) {
	now := s.now().UTC().Truncate(time.Second)
	a, err := parseCA(certPEM, keyPEM, now)
	if err != nil {
		return nil, err
	}
	rec, err := s.seal(a, OriginImported, now)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{}
	var revoked []*Certificate
	err = s.store.InTx(ctx, func(tx Tx) error {
		revoked, res.Replaced = nil, ""
		if err := tx.LockScope(ctx, lockCA); err != nil {
			return err
		}
		cur, err := tx.ActiveAuthority(ctx)
		switch {
		case fault.Is(err, fault.NotFound):
			cur = nil
		case err != nil:
			return err
		case cur.Fingerprint == rec.Fingerprint:
			res.Unchanged = true
			a.ID = cur.ID
			return nil
		}
		if cur != nil {
			n, err := tx.CountCertificates(ctx, cur.ID)
			if err != nil {
				return err
			}
			if n > 0 && !force {
				return fault.Errorf(fault.Conflict, "the current CA has issued %d certificates, which stop being trusted when it is replaced; use --force to replace it and revoke them", n).
					WithDetails(map[string]any{"issued": n})
			}
			if revoked, err = tx.UnrevokedCertificates(ctx, Owner{}, cur.ID, now); err != nil {
				return err
			}
			for _, c := range revoked {
				if err := revokeInTx(ctx, tx, src, c, now, CessationOfOperation); err != nil {
					return err
				}
			}
			if err := tx.RetireAuthority(ctx, cur.ID, now); err != nil {
				return err
			}
			if err := tx.BumpRevision(ctx); err != nil {
				return err
			}
			res.Replaced = cur.Fingerprint
		}
		if err := tx.InsertAuthority(ctx, rec); err != nil {
			return err
		}
		a.ID = rec.ID
		return audit.Record(ctx, tx, src, 0, "pki.ca.import", "ca:"+strconv.FormatInt(rec.ID, 10), map[string]any{
			"fingerprint": rec.Fingerprint, "subject": a.Certificate.Subject.String(),
			"not_after": a.Certificate.NotAfter, "replaced": res.Replaced, "revoked": len(revoked),
		})
	})
	if err != nil {
		return nil, err
	}
	res.Revoked = len(revoked)
	ca := a.CA
	res.CA = &ca
	if res.Unchanged {
		return res, nil
	}
	for _, c := range revoked {
		s.publish(ctx, actionRevoked, c.GroupID, string(c.Serial))
	}
	s.ca.Store(a)
	s.crl.Store(nil)
	if _, err := s.regenerate(ctx, a); err != nil {
		// The import committed; servers regenerate on their next sync.
		s.log.Warn("generating the new CA's first CRL", "error", err)
	}
	s.publish(ctx, actionCA, 0, rec.Fingerprint)
	return res, nil
}

// parseCA validates an imported CA certificate and key.
func parseCA(certPEM, keyPEM []byte, now time.Time) (*authority, error) {
	var der []byte
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if der != nil {
			return nil, fault.New(fault.Invalid, "the certificate file holds more than one certificate; give only the CA's")
		}
		der = b.Bytes
	}
	if der == nil {
		return nil, fault.New(fault.Invalid, "no PEM \"CERTIFICATE\" block in the certificate file")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fault.New(fault.Invalid, "the certificate does not parse").Wrap(err)
	}
	switch {
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return nil, fault.New(fault.Invalid, "the certificate is not a CA (basicConstraints CA:TRUE is missing)")
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fault.New(fault.Invalid, "the CA certificate's key usage lacks keyCertSign")
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCRLSign == 0:
		return nil, fault.New(fault.Invalid, "the CA certificate's key usage lacks cRLSign, so it cannot sign the CRL")
	case len(cert.SubjectKeyId) == 0:
		return nil, fault.New(fault.Invalid, "the CA certificate has no subject key identifier, which CRLs refer to")
	case now.After(cert.NotAfter):
		return nil, fault.Errorf(fault.Invalid, "the CA certificate expired at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(cert.NotBefore):
		return nil, fault.Errorf(fault.Invalid, "the CA certificate is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	return newAuthority(0, der, key)
}

// parseKey reads the first private key block of keyPEM.
func parseKey(keyPEM []byte) (crypto.Signer, error) {
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fault.New(fault.Invalid, "no PEM private key block in the key file")
		}
		if _, enc := b.Headers["DEK-Info"]; enc {
			return nil, errEncryptedKey
		}
		var key any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errEncryptedKey
		default:
			continue // e.g. "EC PARAMETERS" before the key
		}
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "the %s does not parse", b.Type).Wrap(err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fault.Errorf(fault.Invalid, "a %T key cannot sign", key)
		}
		return signer, nil
	}
}

var errEncryptedKey = fault.New(fault.Invalid, "the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")

// String is a one-line summary of the CA for operators.
func (c *CA) String() string {
	return fmt.Sprintf("%s (SHA-256 %s, valid until %s)", c.Certificate.Subject, c.Fingerprint, c.Certificate.NotAfter.UTC().Format(time.RFC3339))
}
