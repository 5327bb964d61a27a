package tlscert

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

// MaxNames bounds the names and addresses of one certificate.
const MaxNames = 100

// GenerateRequest asks for a certificate: its names and addresses (the
// first names it) and who issues it ("" is self-signed).
type GenerateRequest struct {
	Domains  []string
	Provider Provider
}

// Generate has the CA issue a certificate for the request's names and
// addresses, stores it (replacing the one of the same domain) and serves
// it from then on. Errors: invalid (names, provider), forbidden,
// unavailable (the CA).
func (s *Service) Generate(ctx context.Context, p *authz.Principal, src audit.Source, req GenerateRequest) (*Certificate, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	switch req.Provider {
	case "", SelfSigned:
	default:
		return nil, fault.Errorf(fault.Invalid, "provider %q is not supported; use %q", req.Provider, SelfSigned).
			WithDetails(map[string]any{"field": "provider"})
	}
	names, dns, ips, err := parseNames(req.Domains)
	if err != nil {
		return nil, err
	}
	issued, err := s.issuer.IssueHost(ctx, src, pki.HostRequest{CommonName: names[0], DNSNames: dns, IPs: ips, TTL: s.ttl})
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(issued.Certificate.DER)
	if err != nil {
		return nil, fmt.Errorf("reading the issued certificate: %w", err)
	}
	c := &Certificate{Domain: names[0], Provider: SelfSigned, Issuer: leaf.Issuer.CommonName, SANs: names,
		Serial: string(issued.Certificate.Serial), Fingerprint: Fingerprint(leaf.Raw),
		NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(),
		ChainPEM: append(append([]byte(nil), issued.CertPEM...), issued.CAPEM...), CreatedAt: s.now().UTC()}
	if c.KeySealed, err = s.keys.Seal(issued.KeyPEM, sealContext(c.Fingerprint)); err != nil {
		return nil, fmt.Errorf("sealing the private key: %w", err)
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		replaced, err := tx.PutTLSCertificate(ctx, c)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "tls_certificate.generate", target(c.Domain), map[string]any{
			"provider": c.Provider, "sans": c.SANs, "serial": c.Serial, "fingerprint": c.Fingerprint,
			"not_after": c.NotAfter, "replaced": replaced,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storing the certificate of %s: %w", c.Domain, err)
	}
	s.changed(ctx, actionPut, c.Domain)
	return c, nil
}

// List returns every certificate, newest first. Errors: forbidden.
func (s *Service) List(ctx context.Context, p *authz.Principal) ([]*Certificate, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListTLSCertificates(ctx)
}

// Get returns domain's certificate. Errors: not_found, forbidden.
func (s *Service) Get(ctx context.Context, p *authz.Principal, domain string) (*Certificate, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	d, ok := normalName(domain)
	if !ok {
		return nil, notFound(domain)
	}
	c, err := s.store.Read().TLSCertificate(ctx, d)
	if fault.Is(err, fault.NotFound) {
		return nil, notFound(domain)
	}
	return c, err
}

// Delete removes domain's certificate; the listener serves the newest
// remaining one that fits from then on, or none. Errors: not_found,
// forbidden.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, src audit.Source, domain string) error {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return err
	}
	d, ok := normalName(domain)
	if !ok {
		return notFound(domain)
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteTLSCertificate(ctx, d); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "tls_certificate.delete", target(d), nil)
	})
	if fault.Is(err, fault.NotFound) {
		return notFound(domain)
	}
	if err != nil {
		return err
	}
	s.changed(ctx, actionDeleted, d)
	return nil
}

// Suggest lists names to put in a certificate: localhost, this host's
// names and its interfaces' addresses. Errors: forbidden, unavailable.
func (s *Service) Suggest(ctx context.Context, p *authz.Principal) ([]string, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	found, err := s.host.Names()
	if err != nil {
		return nil, fault.New(fault.Unavailable, "this host's names cannot be read").Wrap(err)
	}
	out := []string{"localhost"}
	seen := map[string]bool{"localhost": true}
	for _, n := range found {
		if d, ok := normalName(n); ok && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// changed reloads this replica's served set and tells the others.
func (s *Service) changed(ctx context.Context, action, domain string) {
	if err := s.reload(ctx); err != nil {
		s.log.Warn("reloading TLS certificates", "error", err)
	}
	s.publish(ctx, action, domain)
}

// parseNames validates and normalises the names asked for: host names
// (lowercase) and IP addresses, without repeats, the first naming the
// certificate.
func parseNames(in []string) (names, dns []string, ips []net.IP, err error) {
	invalid := func(msg string) error {
		return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": "domains"})
	}
	if len(in) == 0 {
		return nil, nil, nil, invalid("domains must list at least one host name or IP address")
	}
	if len(in) > MaxNames {
		return nil, nil, nil, invalid(fmt.Sprintf("at most %d domains", MaxNames))
	}
	seen := map[string]bool{}
	for _, raw := range in {
		d, ok := normalName(raw)
		if !ok {
			return nil, nil, nil, invalid(fmt.Sprintf("%q is neither a host name nor an IP address", raw))
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		names = append(names, d)
		if ip := net.ParseIP(d); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, d)
		}
	}
	if len(names[0]) > pki.MaxCommonName {
		return nil, nil, nil, invalid(fmt.Sprintf("the first domain names the certificate: at most %d characters", pki.MaxCommonName))
	}
	return names, dns, ips, nil
}

// normalName is a host name in lowercase without a trailing dot, or an IP
// address in its canonical form; ok is false for anything else.
func normalName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if ip := net.ParseIP(s); ip != nil {
		return ip.String(), true
	}
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if !pki.IsHostName(s) {
		return "", false
	}
	return s, true
}

func sealContext(fingerprint string) string { return "tls-key:" + fingerprint }
