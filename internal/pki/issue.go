package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// ClientRequest asks for a VPN client certificate. Its holder is a user
// or, for a mesh spoke (a gateway that dials its hub as an OpenVPN
// client), a gateway: exactly one of UserID and GatewayID is set.
type ClientRequest struct {
	CommonName string // subject CN, e.g. the username; at most 64 characters
	UserID     int64  // the holding user
	GatewayID  string // the holding gateway
	GroupID    int64  // the holder's group
	// TTL is the lifetime; 0 means Config.ClientTTL (Config.ServerTTL for
	// a gateway). It is cut to the CA's remaining lifetime.
	TTL time.Duration
}

// ServerRequest asks for a gateway's TLS server certificate.
type ServerRequest struct {
	CommonName string   // subject CN, usually the gateway's hostname
	GatewayID  string   // the holder (required)
	GroupID    int64    // the gateway's group; 0 for server-wide gateways
	DNSNames   []string // subject alternative names; CommonName is added when it is a host name
	IPs        []net.IP // IP SANs; CommonName is added when it is an address
	TTL        time.Duration
}

// MaxCommonName is X.509's upper bound on a CN (ub-common-name).
const MaxCommonName = 64

// IssueClient issues a client certificate (ExtKeyUsageClientAuth) with a
// fresh ECDSA P-256 key, records it and audits it. The caller has decided
// that the user may have one. Errors: invalid (request), unavailable
// (before Start, or the CA has expired).
func (s *Service) IssueClient(ctx context.Context, src audit.Source, req ClientRequest) (*Issued, error) {
	if (req.UserID <= 0) == (strings.TrimSpace(req.GatewayID) == "") {
		return nil, invalidField("user_id", "a client certificate needs its holder: a user or a gateway")
	}
	c := &Certificate{Kind: KindClient, CommonName: req.CommonName, UserID: req.UserID, GatewayID: req.GatewayID, GroupID: req.GroupID}
	def := s.cfg.ClientTTL
	if req.GatewayID != "" { // infrastructure, renewed by its agent as a server's is
		def = s.cfg.ServerTTL
	}
	return s.issue(ctx, src, c, req.TTL, def, nil, nil)
}

// IssueServer issues a gateway server certificate (ExtKeyUsageServerAuth),
// otherwise as IssueClient.
func (s *Service) IssueServer(ctx context.Context, src audit.Source, req ServerRequest) (*Issued, error) {
	if strings.TrimSpace(req.GatewayID) == "" {
		return nil, invalidField("gateway_id", "a server certificate needs its gateway")
	}
	dns, ips, err := serverNames(req.CommonName, req.DNSNames, req.IPs)
	if err != nil {
		return nil, err
	}
	c := &Certificate{Kind: KindServer, CommonName: req.CommonName, GatewayID: req.GatewayID, GroupID: req.GroupID}
	return s.issue(ctx, src, c, req.TTL, s.cfg.ServerTTL, dns, ips)
}

// HostRequest asks for a TLS server certificate of netkeep's own HTTPS
// listener: server-wide, held by no gateway.
type HostRequest struct {
	CommonName string   // subject CN, the first name asked for
	DNSNames   []string // subject alternative names
	IPs        []net.IP
	TTL        time.Duration // 0: Config.ServerTTL
}

// IssueHost issues a server certificate (ExtKeyUsageServerAuth) for this
// host's own HTTPS, as IssueServer does for gateways.
func (s *Service) IssueHost(ctx context.Context, src audit.Source, req HostRequest) (*Issued, error) {
	dns, ips, err := serverNames(req.CommonName, req.DNSNames, req.IPs)
	if err != nil {
		return nil, err
	}
	c := &Certificate{Kind: KindServer, CommonName: req.CommonName}
	return s.issue(ctx, src, c, req.TTL, s.cfg.ServerTTL, dns, ips)
}

// serverNames are a server certificate's SANs: those asked for, and the
// common name when it is a host name or an address.
func serverNames(cn string, dnsNames []string, addrs []net.IP) ([]string, []net.IP, error) {
	dns := append([]string(nil), dnsNames...)
	ips := append([]net.IP(nil), addrs...)
	if ip := net.ParseIP(cn); ip != nil {
		ips = appendIP(ips, ip)
	} else if isHostName(cn) && !contains(dns, cn) {
		dns = append([]string{cn}, dns...)
	}
	for _, d := range dns {
		if !isHostName(d) {
			return nil, nil, invalidField("dns_names", fmt.Sprintf("%q is not a host name", d))
		}
	}
	return dns, ips, nil
}

// IsHostName reports whether s may be a DNS subject alternative name (a
// host name, or a wildcard "*." before one).
func IsHostName(s string) bool { return isHostName(s) }

// issue validates c, mints it and records it with an audit entry.
func (s *Service) issue(ctx context.Context, src audit.Source, c *Certificate, ttl, def time.Duration, dns []string, ips []net.IP) (*Issued, error) {
	c.CommonName = strings.TrimSpace(c.CommonName)
	if err := validCommonName(c.CommonName); err != nil {
		return nil, err
	}
	switch {
	case ttl < 0:
		return nil, invalidField("ttl", "lifetime must be positive")
	case ttl == 0:
		ttl = def
	}
	a, err := s.issuerFor(ctx, c.GroupID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	if err := expired(a, now); err != nil {
		return nil, err
	}
	out, err := a.mint(c, now, ttl, dns, ips)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "pki.issue", c.target(), map[string]any{
			"kind": c.Kind, "common_name": c.CommonName, "user_id": c.UserID, "gateway_id": c.GatewayID,
			"not_after": c.NotAfter,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("recording certificate %s: %w", c.Serial, err)
	}
	s.publish(ctx, actionIssued, c.GroupID, string(c.Serial))
	return out, nil
}

// mint creates and signs the certificate described by c with a new key,
// filling in c's serial, validity, DER and authority. It touches no store:
// this is the cost of issuance itself.
func (a *authority) mint(c *Certificate, now time.Time, ttl time.Duration, dns []string, ips []net.IP) (*Issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial := newSerial()
	notAfter := now.Add(ttl)
	if caEnd := a.Certificate.NotAfter; notAfter.After(caEnd) {
		notAfter = caEnd
	}
	eku := x509.ExtKeyUsageClientAuth
	if c.Kind == KindServer {
		eku = x509.ExtKeyUsageServerAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: c.CommonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{eku},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Certificate, key.Public(), a.signer)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c.Serial, c.AuthorityID, c.DER = SerialOf(serial), a.ID, der
	c.NotBefore, c.NotAfter, c.CreatedAt = tmpl.NotBefore, tmpl.NotAfter.UTC(), now
	return &Issued{
		Certificate: c,
		CertPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		CAPEM:       a.PEM,
	}, nil
}

func invalidField(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

func validCommonName(cn string) error {
	switch {
	case cn == "":
		return invalidField("common_name", "common name is required")
	case !utf8.ValidString(cn) || utf8.RuneCountInString(cn) > MaxCommonName:
		return invalidField("common_name", fmt.Sprintf("common name must be valid text of at most %d characters", MaxCommonName))
	}
	for _, r := range cn {
		if r < 0x20 || r == 0x7f {
			return invalidField("common_name", "common name must not contain control characters")
		}
	}
	return nil
}

// isHostName accepts DNS names (letters, digits, '-', '.', and a leading
// "*." wildcard label), 253 characters at most.
func isHostName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func appendIP(ips []net.IP, ip net.IP) []net.IP {
	for _, v := range ips {
		if v.Equal(ip) {
			return ips
		}
	}
	return append(ips, ip)
}
