package gateway

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"slices"
	"strings"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
)

// ClientCert identifies a connecting client's certificate as OpenVPN's
// hooks see it: its serial (hex, as tls_serial_hex_0 or openssl print it),
// its common name, and optionally the certificate itself (PEM, from
// --tls-export-cert). At least Serial or PEM is required. Address is the
// client's public address as the gateway saw it (optional): the
// geo-fence checks it.
type ClientCert struct {
	GatewayID  string // optional; must be the token's gateway
	Serial     string
	CommonName string
	PEM        string
	Address    string
}

// Verdict is an allowed client: its certificate, its user and what it may
// reach through the gateway.
type Verdict struct {
	Certificate *pki.Certificate
	User        *identity.User
	Grants      []Grant
}

// Why a client is refused, in the domain's words. A refusal is a forbidden
// fault whose details carry the reason under "reason" (the agent logs it);
// its code stays forbidden, so a gateway tells refusals from other errors
// by the code alone.
const (
	DenyUntrusted fault.Reason = "untrusted_certificate" // not signed by the active CA
	DenyUnknown   fault.Reason = "unknown_certificate"   // no record of the serial
	DenyRevoked   fault.Reason = "certificate_revoked"
	DenyExpired   fault.Reason = "certificate_expired" // or not yet valid
	DenyMismatch  fault.Reason = "common_name_mismatch"
	DenyNotClient fault.Reason = "not_a_client_certificate"
	DenyInactive  fault.Reason = "user_inactive" // or deleted
	DenyNoAccess  fault.Reason = "access_denied" // no access rule for this gateway
)

const denyDetailsKey = "reason"

func deny(reason fault.Reason, msg string) error {
	return fault.New(fault.Forbidden, msg).WithDetails(map[string]any{denyDetailsKey: reason})
}

// Verify decides whether a client may connect to p's gateway now: its
// certificate was issued by the active CA to a user and is neither revoked
// nor expired, the common name matches, the user is active, and an access
// rule grants the user a network behind the gateway. It is on OpenVPN's
// connection path, so it reads only the store (no transaction).
//
// Errors: forbidden with details {"reason": Deny...} for a refused client,
// or because p is not a gateway (or another one); invalid (no serial, a
// malformed serial or PEM); unauthorized.
func (s *Service) Verify(ctx context.Context, p *authz.Principal, in ClientCert) (*Verdict, error) {
	g, err := s.self(ctx, p, in.GatewayID)
	if err != nil {
		return nil, err
	}
	return s.verify(ctx, g, in)
}

func (s *Service) verify(ctx context.Context, g *Gateway, in ClientCert) (*Verdict, error) {
	c, err := s.clientCertificate(ctx, g, in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case c.Kind != pki.KindClient:
		return nil, deny(DenyNotClient, "the certificate is not a VPN client certificate")
	case c.Revoked():
		return nil, deny(DenyRevoked, "the certificate was revoked")
	case now.Before(c.NotBefore) || !now.Before(c.NotAfter):
		return nil, deny(DenyExpired, "the certificate is expired or not yet valid")
	case in.CommonName != "" && in.CommonName != c.CommonName:
		return nil, deny(DenyMismatch, "the common name does not match the certificate's")
	}
	rd := s.store.Read()
	u, err := rd.UserByID(ctx, c.UserID)
	if fault.Is(err, fault.NotFound) || (err == nil && !u.IsActive) {
		return nil, deny(DenyInactive, "the certificate's user is disabled or deleted")
	}
	if err != nil {
		return nil, err
	}
	if s.gate != nil && in.Address != "" {
		if err := s.gate(ctx, u, g.ID, in.Address); err != nil {
			return nil, err
		}
	}
	grants, err := userGrants(ctx, rd, g, u)
	if err != nil {
		return nil, err
	}
	if len(grants) == 0 {
		return nil, deny(DenyNoAccess, "no access rule grants this user a network behind this gateway")
	}
	return &Verdict{Certificate: c, User: u, Grants: grants}, nil
}

// clientCertificate finds the record of the certificate in, checking a
// given PEM against the CAs g's group trusts and against the given serial.
func (s *Service) clientCertificate(ctx context.Context, g *Gateway, in ClientCert) (*pki.Certificate, error) {
	trust, err := s.pki.Trust(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	var serial pki.Serial
	if in.Serial != "" {
		if serial, err = pki.ParseSerial(in.Serial); err != nil {
			return nil, fault.As(err).WithDetails(map[string]any{"field": "serial"})
		}
	}
	if strings.TrimSpace(in.PEM) != "" {
		block, _ := pem.Decode([]byte(in.PEM))
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, invalidField("certificate", "certificate must be a PEM CERTIFICATE block")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, invalidField("certificate", "certificate cannot be parsed")
		}
		roots := x509.NewCertPool()
		for _, ca := range trust.CAs {
			roots.AddCert(ca.Certificate)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: s.now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return nil, deny(DenyUntrusted, "the certificate was not issued by this server's CA, or is expired")
		}
		own := pki.SerialOf(cert.SerialNumber)
		if serial != "" && serial != own {
			return nil, invalidField("serial", "serial does not match the certificate")
		}
		serial = own
	}
	if serial == "" {
		return nil, invalidField("serial", "serial (or certificate) is required")
	}
	c, err := s.pki.Certificate(ctx, serial)
	if fault.Is(err, fault.NotFound) {
		return nil, deny(DenyUnknown, "no certificate with this serial was issued")
	}
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(trust.CAs, func(ca *pki.CA) bool { return ca.ID == c.AuthorityID }) {
		return nil, deny(DenyUntrusted, "the certificate was issued by a CA the gateway's group no longer trusts")
	}
	return c, nil
}

// Destinations are the distinct prefixes of grants, in order of first
// appearance: the CIDRs a client may reach.
func Destinations(grants []Grant) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	out := []netip.Prefix{}
	for _, g := range grants {
		if !seen[g.Destination] {
			seen[g.Destination] = true
			out = append(out, g.Destination)
		}
	}
	return out
}
