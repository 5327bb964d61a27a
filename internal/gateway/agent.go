package gateway

import (
	"context"
	"crypto/sha256"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

var (
	errBadToken     = fault.New(fault.Unauthorized, "invalid or missing gateway token")
	errNotGateway   = fault.New(fault.Forbidden, "this endpoint is for gateway agents (X-Gateway-Token)")
	errOtherGateway = fault.New(fault.Forbidden, "a gateway token may act only for its own gateway")
)

// reprovisionBefore is how long before its server certificate expires a
// gateway is asked to reprovision.
const reprovisionBefore = 30 * 24 * time.Hour

// AuthenticateToken returns the principal of a gateway agent's token: kind
// gateway, Subject the gateway's ID. The token is compared by SHA-256, so a
// lookup reveals nothing through timing. Errors: unauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*authz.Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, errBadToken
	}
	g, err := s.store.Read().GatewayByTokenHash(ctx, sha256.Sum256([]byte(token)))
	if fault.Is(err, fault.NotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	return &authz.Principal{Kind: authz.KindGateway, Subject: g.ID, GroupID: g.GroupID, Username: g.Name}, nil
}

// self returns the gateway p authenticates. claimed, when not empty, is the
// gateway the request says it acts for: it must be p's own.
// Errors: forbidden, unauthorized (the gateway was deleted meanwhile).
func (s *Service) self(ctx context.Context, p *authz.Principal, claimed string) (*Gateway, error) {
	if p == nil || p.Kind != authz.KindGateway {
		return nil, errNotGateway
	}
	if claimed != "" && claimed != p.Subject {
		return nil, errOtherGateway
	}
	g, err := s.store.Read().GatewayByID(ctx, p.Subject)
	if fault.Is(err, fault.NotFound) {
		return nil, errBadToken
	}
	return g, err
}

// Heartbeat is what a gateway agent reports.
type Heartbeat struct {
	GatewayID    string // optional; must be the token's gateway
	AgentVersion string
	// PublicKey is a WireGuard gateway's public key (base64), optional; a
	// new one replaces the stored key (audited).
	PublicKey string
}

// HeartbeatReply tells the agent whether to refresh: its rules when
// ConfigVersion is newer than what it has, its certificate and key when
// NeedsReprovision.
type HeartbeatReply struct {
	ConfigVersion    int64
	NeedsReprovision bool
	CAFingerprint    string
}

// Heartbeat records that p's gateway is alive (its status becomes online)
// and says what it should refresh. Heartbeats are liveness telemetry, not
// changes of configuration, so they are not audited (like mesh check-ins);
// a new WireGuard public key is.
// Errors: forbidden, unauthorized, invalid (agent version), unavailable.
func (s *Service) Heartbeat(ctx context.Context, p *authz.Principal, src audit.Source, hb Heartbeat) (*HeartbeatReply, error) {
	g, err := s.self(ctx, p, hb.GatewayID)
	if err != nil {
		return nil, err
	}
	if len(hb.AgentVersion) > MaxName || hasControl(hb.AgentVersion) {
		return nil, invalidField("version", "version must be text of at most 64 characters")
	}
	key, err := reportedKey(g, hb.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := s.store.InTx(ctx, func(tx Tx) error {
		now := s.stamp()
		if err := tx.RecordHeartbeat(ctx, g.ID, now, hb.AgentVersion); err != nil {
			return err
		}
		if key == "" {
			return nil
		}
		if err := tx.SetGatewayPublicKey(ctx, g.ID, key, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, "gateway.public_key", gatewayTarget(g.ID),
			map[string]any{"public_key": key, "previous": g.PublicKey})
	}); err != nil {
		return nil, notFoundAs(err, errBadToken)
	}
	trust, err := s.pki.Trust(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	stale, err := s.needsReprovision(ctx, g, trust)
	if err != nil {
		return nil, err
	}
	return &HeartbeatReply{ConfigVersion: g.ConfigVersion, NeedsReprovision: stale, CAFingerprint: trust.Issuer.Fingerprint}, nil
}

// reportedKey validates a WireGuard public key a heartbeat reports and
// returns it canonically when it differs from g's, "" when there is nothing
// to store. Errors: invalid.
func reportedKey(g *Gateway, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if g.VPNType != VPNWireGuard {
		return "", invalidField("public_key", "public_key is for WireGuard gateways")
	}
	k, err := wgtypes.ParseKey(s)
	if err != nil {
		return "", invalidField("public_key", "public_key must be a base64 WireGuard key")
	}
	if k.String() == g.PublicKey {
		return "", nil
	}
	return k.String(), nil
}

// needsReprovision reports whether g's server certificate must be replaced:
// it has none, its group's trust changed since (a CA rotated in, activated
// or revoked: the gateway needs the new bundle, and a certificate of the
// new issuer), it names an old hostname, it expires within
// reprovisionBefore, or it was revoked.
func (s *Service) needsReprovision(ctx context.Context, g *Gateway, trust *pki.Trust) (bool, error) {
	if g.CertSerial == "" || g.CAFingerprint != trust.Digest || g.CertHostname != g.Hostname ||
		g.CertNotAfter == nil || s.now().Add(reprovisionBefore).After(*g.CertNotAfter) {
		return true, nil
	}
	c, err := s.pki.Certificate(ctx, pki.Serial(g.CertSerial))
	if fault.Is(err, fault.NotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return c.Revoked(), nil
}

// Provisioned is what a gateway needs to serve: its new server certificate
// and key (the key exists only here), its group's trust (the issuer, every
// CA it trusts and their CRLs) and its tls-crypt key.
type Provisioned struct {
	Gateway  *Gateway
	Issued   *pki.Issued
	Trust    *pki.Trust
	TLSCrypt []byte
}

// Provision issues p's gateway a new server certificate for its hostname,
// records it, and revokes the one it replaces (superseded). The caller must
// hand the key to the gateway and drop it: it is not stored.
// Errors: forbidden, unauthorized, unavailable (no CA yet).
func (s *Service) Provision(ctx context.Context, p *authz.Principal, src audit.Source, claimed string) (*Provisioned, error) {
	g, err := s.self(ctx, p, claimed)
	if err != nil {
		return nil, err
	}
	// Read before issuing: if a CA is activated meanwhile, the digest
	// recorded is the older one and the next heartbeat reprovisions.
	trust, err := s.pki.Trust(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	req := pki.ServerRequest{CommonName: g.Hostname, GatewayID: g.ID, GroupID: g.GroupID}
	if len(g.Hostname) > pki.MaxCommonName {
		req.CommonName, req.DNSNames = g.ID, []string{g.Hostname}
	}
	issued, err := s.pki.IssueServer(ctx, src, req)
	if err != nil {
		return nil, err
	}
	tlsCrypt, err := s.TLSCryptKey(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	previous := g.CertSerial
	next := *g
	next.CertSerial = string(issued.Certificate.Serial)
	notAfter := issued.Certificate.NotAfter
	next.CertNotAfter, next.CertHostname, next.CAFingerprint = &notAfter, g.Hostname, trust.Digest
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RecordProvision(ctx, &next); err != nil {
			return notFoundAs(err, errBadToken)
		}
		return audit.Record(ctx, tx, src, g.GroupID, "gateway.provision", gatewayTarget(g.ID), map[string]any{
			"serial": next.CertSerial, "hostname": g.Hostname, "not_after": notAfter, "replaces": previous,
		})
	})
	if err != nil {
		return nil, err
	}
	if previous != "" && previous != next.CertSerial {
		_, err := s.pki.RevokeUnchecked(ctx, src, pki.Serial(previous), pki.Superseded)
		if err != nil && !fault.Is(err, fault.NotFound) {
			// The new certificate is in place; the old one expires on its
			// own, so the gateway's provisioning still succeeds.
			s.log.Warn("revoking a superseded gateway certificate", "gateway", g.ID, "serial", previous, "error", err)
		}
	}
	s.publish(ctx, "gateway.provisioned", g.GroupID, g.ID)
	// Read again after the revocation, so the gateway's CRLs list its old
	// certificate.
	if trust, err = s.pki.Trust(ctx, g.GroupID); err != nil {
		return nil, err
	}
	return &Provisioned{Gateway: &next, Issued: issued, Trust: trust, TLSCrypt: tlsCrypt}, nil
}
