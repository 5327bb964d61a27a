package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strconv"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// authority is the loaded CA: its public face and its signing key.
type authority struct {
	CA
	signer crypto.Signer
}

// sealContext binds a sealed CA key to its certificate, so a sealed key
// cannot be paired with another certificate's row.
func sealContext(fingerprint string) string { return "pki-ca:" + fingerprint }

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// newAuthority builds the loaded form of a CA from its certificate and key.
func newAuthority(id int64, der []byte, signer crypto.Signer) (*authority, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing CA certificate: %w", err)
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, fault.New(fault.Invalid, "the private key does not belong to the CA certificate")
	}
	return &authority{
		CA: CA{
			ID:          id,
			Certificate: cert,
			DER:         der,
			PEM:         pemCert(der),
			Fingerprint: fingerprint(der),
		},
		signer: signer,
	}, nil
}

// seal returns the stored form of a, its key sealed under the server secret.
func (s *Service) seal(a *authority, origin string, now time.Time) (*Authority, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(a.signer)
	if err != nil {
		return nil, fmt.Errorf("encoding CA key: %w", err)
	}
	sealed, err := s.keys.Seal(keyDER, sealContext(a.Fingerprint))
	clear(keyDER)
	if err != nil {
		return nil, fmt.Errorf("sealing CA key: %w", err)
	}
	return &Authority{CertDER: a.DER, KeySealed: sealed, Fingerprint: a.Fingerprint, Origin: origin, Active: true,
		Issuing: true, CreatedAt: now, ActivatedAt: &now}, nil
}

// open loads a stored authority, unsealing its key.
func (s *Service) open(rec *Authority) (*authority, error) {
	if rec.KeySealed == nil {
		return nil, fmt.Errorf("CA %d has no key (retired)", rec.ID)
	}
	keyDER, err := s.keys.Open(rec.KeySealed, sealContext(rec.Fingerprint))
	if err != nil {
		return nil, fmt.Errorf("opening the CA key: %w (was the server secret changed?)", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	clear(keyDER)
	if err != nil {
		return nil, fmt.Errorf("parsing the CA key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA key of type %T cannot sign", key)
	}
	return newAuthority(rec.ID, rec.CertDER, signer)
}

// generateCA creates a self-signed ECDSA P-256 CA that may sign leaf
// certificates and CRLs, named cn and valid for validity.
func generateCA(now time.Time, cn string, validity time.Duration) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	return newAuthority(0, der, key)
}

// ensureCA creates the CA unless one exists. The check and the insert run
// under the CA lock, so replicas starting together create exactly one.
func (s *Service) ensureCA(ctx context.Context) error {
	_, err := s.store.Read().ActiveAuthority(ctx)
	if err == nil || !fault.Is(err, fault.NotFound) {
		return err
	}
	now := s.now().UTC().Truncate(time.Second)
	a, err := generateCA(now, s.cfg.CAName, s.cfg.CAValidity)
	if err != nil {
		return err
	}
	rec, err := s.seal(a, OriginGenerated, now)
	if err != nil {
		return err
	}
	created := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.LockScope(ctx, lockCA); err != nil {
			return err
		}
		if _, err := tx.ActiveAuthority(ctx); err == nil || !fault.Is(err, fault.NotFound) {
			return err // another replica won, or the lookup failed
		}
		if err := tx.InsertAuthority(ctx, rec); err != nil {
			return err
		}
		created = true
		return audit.Record(ctx, tx, audit.Source{Actor: "system"}, 0, "pki.ca.create", "ca:"+strconv.FormatInt(rec.ID, 10),
			map[string]any{"fingerprint": rec.Fingerprint, "subject": a.Certificate.Subject.String(), "not_after": a.Certificate.NotAfter})
	})
	if err != nil {
		return fmt.Errorf("creating the CA: %w", err)
	}
	if created {
		s.log.Info("created the certificate authority", "fingerprint", rec.Fingerprint)
		s.publish(ctx, actionCA, 0, rec.Fingerprint)
	}
	return nil
}

// CA returns the active CA. Errors: unavailable before Start.
func (s *Service) CA() (*CA, error) {
	a, err := s.current()
	if err != nil {
		return nil, err
	}
	ca := a.CA // its slices and Certificate are shared: read-only
	return &ca, nil
}
