package tlscert

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// served is one certificate ready for handshakes.
type served struct {
	domain string
	cert   *tls.Certificate // with Leaf
}

var errNoCertificate = errors.New("no TLS certificate has been generated")

// pick chooses the certificate for hello from set (newest first).
func pick(set []*served, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if len(set) == 0 {
		return nil, errNoCertificate
	}
	name := hello.ServerName
	if name == "" && hello.Conn != nil {
		if a, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok {
			name = a.IP.String()
		}
	}
	if name != "" {
		for _, c := range set {
			if c.cert.Leaf.VerifyHostname(name) == nil {
				return c.cert, nil
			}
		}
	}
	return set[0].cert, nil
}

// reload reads every stored certificate, opens its key and replaces the
// served set. A certificate whose key does not open (a backup restored
// under another secret) is left out and logged.
func (s *Service) reload(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	all, err := s.store.Read().ListTLSCertificates(ctx)
	if err != nil {
		return fmt.Errorf("reading TLS certificates: %w", err)
	}
	set := make([]*served, 0, len(all))
	for _, c := range all {
		cert, err := s.open(c)
		if err != nil {
			s.log.Error("a stored TLS certificate cannot be served", "domain", c.Domain, "error", err)
			continue
		}
		set = append(set, &served{domain: c.Domain, cert: cert})
	}
	s.served.Store(&set)
	return nil
}

// open unseals c's key and pairs it with its chain.
func (s *Service) open(c *Certificate) (*tls.Certificate, error) {
	keyPEM, err := s.keys.Open(c.KeySealed, sealContext(c.Fingerprint))
	if err != nil {
		return nil, fmt.Errorf("opening the private key: %w", err)
	}
	cert, err := tls.X509KeyPair(c.ChainPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &cert, nil // X509KeyPair fills Leaf
}
