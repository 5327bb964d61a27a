package federation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

// Sealer encrypts the federation certificate's private key at rest
// (internal/secret).
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// sealContext binds a sealed federation key to its use.
const sealContext = "federation-identity"

// certificate returns the federation listener's certificate for req, with
// ca as second element of its chain: the one stored for req's names while
// ca issued it and more than a third of its lifetime is left, else a new
// one from the CA, stored with its key sealed (one issuance and one audit
// entry per renewal, not per start). Replicas reached under the same
// names share it.
func (s *Service) certificate(ctx context.Context, ca *pki.CA, req pki.ServerRequest) (tls.Certificate, error) {
	names := identityNames(req)
	if s.sealer != nil {
		stored, err := s.store.Read().FederationIdentity(ctx, names)
		switch {
		case err == nil:
			cert, err := s.reuse(stored, ca)
			if err == nil {
				return cert, nil
			}
			s.log.Info("issuing a new federation certificate", "reason", err)
		case !fault.Is(err, fault.NotFound):
			return tls.Certificate{}, err
		}
	}
	issued, err := s.ca.IssueServer(ctx, audit.Source{Actor: "federation"}, req)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := keyPair(issued.CertPEM, issued.KeyPEM, ca)
	if err != nil || s.sealer == nil {
		return cert, err
	}
	sealed, err := s.sealer.Seal(issued.KeyPEM, sealContext)
	if err != nil {
		return tls.Certificate{}, err
	}
	stored := &StoredIdentity{Names: names, CAFingerprint: ca.Fingerprint, CertPEM: string(issued.CertPEM),
		KeySealed: sealed, NotAfter: cert.Leaf.NotAfter.UTC()}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.SaveFederationIdentity(ctx, stored, s.stamp()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Source{Actor: "federation"}, 0, "federation.certificate.store", "federation",
			map[string]any{"names": names, "not_after": stored.NotAfter, "serial": cert.Leaf.SerialNumber.String()})
	})
	return cert, err
}

// reuse opens a stored certificate, or says why it cannot serve: issued
// by another CA, near its end, or unreadable (another server secret).
func (s *Service) reuse(st *StoredIdentity, ca *pki.CA) (tls.Certificate, error) {
	if st.CAFingerprint != ca.Fingerprint {
		return tls.Certificate{}, errors.New("the stored certificate is from another CA")
	}
	keyPEM, err := s.sealer.Open(st.KeySealed, sealContext)
	if err != nil {
		return tls.Certificate{}, errors.New("the stored certificate's key cannot be opened")
	}
	cert, err := keyPair([]byte(st.CertPEM), keyPEM, ca)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf := cert.Leaf
	if err := leaf.CheckSignatureFrom(ca.Certificate); err != nil {
		return tls.Certificate{}, errors.New("the stored certificate is not signed by the CA")
	}
	if now := s.now(); now.After(leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 3)) {
		return tls.Certificate{}, errors.New("the stored certificate is in the last third of its lifetime")
	}
	return cert, nil
}

// keyPair builds a TLS certificate of a PEM pair with ca's certificate
// as second element of the chain, and its parsed leaf.
func keyPair(certPEM, keyPEM []byte, ca *pki.CA) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert.Certificate = append(cert.Certificate, ca.DER)
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return tls.Certificate{}, err
	}
	return cert, nil
}

// identityNames keys a stored certificate: the subject and every name it
// is asked for, sorted.
func identityNames(req pki.ServerRequest) string {
	names := slices.Clone(req.DNSNames)
	for _, ip := range req.IPs {
		names = append(names, ip.String())
	}
	slices.Sort(names)
	return "cn=" + req.CommonName + ";" + strings.Join(slices.Compact(names), ",")
}
