package federation

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"time"

	"netkeep/internal/fault"
)

// Fingerprint is the pin of a CA certificate: the lowercase hex SHA-256 of
// its DER, as internal/pki names its CAs.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// PeerID is the id a CA fingerprint gives its instance.
func PeerID(fingerprint string) string {
	if len(fingerprint) < 12 {
		return "peer_" + fingerprint
	}
	return "peer_" + fingerprint[:12]
}

var errUnpinned = fault.New(fault.Forbidden, "the certificate is not from a pinned peer's CA")

// chainCA checks a presented chain, leaf first and the issuing CA last (a
// federation certificate always travels with its CA): the CA is a
// self-signed CA certificate and the leaf verifies against it alone, for
// server authentication, at now. It returns the CA's fingerprint.
// Hostnames are not checked: the pin is the peer's identity.
func chainCA(raw [][]byte, now time.Time) (string, error) {
	if len(raw) < 2 {
		return "", errors.New("the certificate chain does not include its CA")
	}
	leaf, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return "", err
	}
	caDER := raw[len(raw)-1]
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	if !ca.IsCA || ca.CheckSignatureFrom(ca) != nil {
		return "", errors.New("the chain's last certificate is not a self-signed CA")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return "", err
	}
	return Fingerprint(caDER), nil
}

// ClientTLS is the TLS configuration for calling a peer pinned to
// fingerprint: this instance's certificate (with its CA) as client
// certificate, and only a server whose chain ends in the pinned CA
// accepted. Errors: unavailable before Start.
func (s *Service) ClientTLS(fingerprint string) (*tls.Config, error) {
	id := s.id.Load()
	if id == nil {
		return nil, errNotRunning
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.cert},
		// The standard checks would want a hostname and a system root;
		// the pin replaces both, in VerifyPeerCertificate.
		InsecureSkipVerify: true, //nolint:gosec // verified against the pin below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			got, err := chainCA(raw, s.now())
			if err != nil {
				return err
			}
			if got != fingerprint {
				return errUnpinned
			}
			return nil
		},
	}, nil
}

// ServerTLS is the federation listener's TLS configuration: this
// instance's certificate, and a client certificate required from every
// caller. A self-consistent chain passes the handshake (a joining instance
// is not pinned yet); Authenticate decides who it is. Errors: unavailable
// before Start.
func (s *Service) ServerTLS() (*tls.Config, error) {
	if s.id.Load() == nil {
		return nil, errNotRunning
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ClientAuth: tls.RequireAnyClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			id := s.id.Load()
			return &id.cert, nil
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			_, err := chainCA(raw, s.now())
			return err
		},
	}, nil
}

// Presented is the CA fingerprint of a verified client chain (the
// listener's handshake has checked it), for Authenticate and Redeem.
func Presented(state *tls.ConnectionState) (string, error) {
	if state == nil || len(state.PeerCertificates) < 2 {
		return "", errUnpinned
	}
	raw := make([][]byte, len(state.PeerCertificates))
	for i, c := range state.PeerCertificates {
		raw[i] = c.Raw
	}
	return Fingerprint(raw[len(raw)-1]), nil
}
