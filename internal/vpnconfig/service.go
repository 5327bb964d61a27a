package vpnconfig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/pki"
)

// Gateways is what configurations need of the gateway domain;
// *gateway.Service implements it.
type Gateways interface {
	// UsableGateway returns the gateway if p's user may connect through it
	// (authorization, group scoping and access rules included).
	UsableGateway(ctx context.Context, p *authz.Principal, id string) (*gateway.Gateway, error)
	// UsableGrants is UsableGateway with what the user may reach through
	// the gateway (a WireGuard client's AllowedIPs).
	UsableGrants(ctx context.Context, p *authz.Principal, id string) (*gateway.Gateway, []gateway.Grant, error)
	// AgentGateway returns the gateway whose agent p is (claimed, when
	// not empty, must be its ID).
	AgentGateway(ctx context.Context, p *authz.Principal, claimed string) (*gateway.Gateway, error)
	// Entitled reports which of userIDs may use gateway g now.
	Entitled(ctx context.Context, g *gateway.Gateway, userIDs []int64) (map[int64]bool, error)
	// TLSCryptKey returns the gateway's tls-crypt key.
	TLSCryptKey(ctx context.Context, id string) ([]byte, error)
}

// CA is what configurations need of the certificate authority;
// *pki.Service implements it.
type CA interface {
	Trust(ctx context.Context, groupID int64) (*pki.Trust, error)
	IssueClient(ctx context.Context, src audit.Source, req pki.ClientRequest) (*pki.Issued, error)
	Certificate(ctx context.Context, serial pki.Serial) (*pki.Certificate, error)
	RevokeUnchecked(ctx context.Context, src audit.Source, serial pki.Serial, reason pki.Reason) (*pki.Certificate, error)
}

// Sealer encrypts the client key at rest; *secret.Keys implements it.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Service generates, serves, lists and revokes client configurations. It
// keeps no state besides the store's, so replicas need no coordination.
type Service struct {
	store    Store
	gateways Gateways
	ca       CA
	keys     Sealer
	now      func() time.Time
	log      *slog.Logger
	ttl      time.Duration
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithTTL sets the lifetime of every configuration, OpenVPN and WireGuard
// alike, and so of its download link: an OpenVPN configuration's
// certificate is issued for it (the CA may cut it to its own validity), a
// WireGuard configuration expires after it. 0 or less means DefaultTTL.
func WithTTL(d time.Duration) Option { return func(s *Service) { s.ttl = d } }

// DefaultTTL is the lifetime of a configuration when WithTTL is not given:
// GateKey's 24 hours.
const DefaultTTL = 24 * time.Hour

// NewService returns the service.
func NewService(st Store, gw Gateways, ca CA, keys Sealer, opts ...Option) *Service {
	s := &Service{store: st, gateways: gw, ca: ca, keys: keys, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	return s
}

// The authz actions: a configuration uses a gateway (gateways:read, the
// scope an API key needs to generate and download); the admin listing
// reads certificates (pki:read) and revocation writes them (pki:write).
const (
	actUse    authz.Action = "gateways:read"
	actList   authz.Action = "pki:read"
	actRevoke authz.Action = "pki:write"
)

// sealContext binds a sealed key to its configuration's row.
func sealContext(id string) string { return "vpn-config-key:" + id }

// DownloadPath is where a configuration is downloaded.
func DownloadPath(id string) string { return "/api/v1/configs/download/" + id }

// Generate issues a client certificate for p's user on gateway gatewayID
// and records a configuration that user may download until the certificate
// expires. protocol is "openvpn" or "wireguard" and must be the gateway's
// VPN type ("" means the gateway's).
//
// For a WireGuard gateway there is no certificate: see generateWireGuard.
//
// Errors: unauthorized; invalid (protocol, a credential without a user);
// not_found (no such gateway, another group's, or one p may not use);
// forbidden (an administrator without an access rule for the gateway, an
// API key without gateways:read); unavailable (no CA yet); conflict
// (WireGuard: the gateway has not reported its public key, reason
// gateway_key_missing; its VPN subnet is full, reason subnet_exhausted).
func (s *Service) Generate(ctx context.Context, p *authz.Principal, src audit.Source, gatewayID, protocol string) (*Generated, error) {
	proto, err := parseProtocol(protocol)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(gatewayID) == "" {
		return nil, invalidField("gateway_id", "gateway_id is required")
	}
	g, err := s.gateways.UsableGateway(ctx, p, gatewayID)
	if err != nil {
		return nil, err
	}
	if proto == "" {
		proto = Protocol(g.VPNType)
	}
	if string(proto) != string(g.VPNType) {
		return nil, invalidField("protocol", fmt.Sprintf("gateway %s is a %s gateway", g.ID, g.VPNType))
	}
	if proto == WireGuard {
		return s.generateWireGuard(ctx, p, src, g)
	}
	id := newID()
	issued, err := s.ca.IssueClient(ctx, src, pki.ClientRequest{
		CommonName: commonName(p), UserID: p.UserID, GroupID: g.GroupID, TTL: s.ttl,
	})
	if err != nil {
		return nil, err
	}
	sealed, err := s.keys.Seal(issued.KeyPEM, sealContext(id))
	clear(issued.KeyPEM)
	if err != nil {
		s.abandon(ctx, src, issued.Certificate.Serial)
		return nil, fmt.Errorf("sealing the client key: %w", err)
	}
	c := &Config{
		ID: id, UserID: p.UserID, GroupID: g.GroupID, GatewayID: g.ID, Protocol: proto,
		Serial: issued.Certificate.Serial, CommonName: issued.Certificate.CommonName, KeySealed: sealed,
		CreatedAt: s.stamp(), ExpiresAt: issued.Certificate.NotAfter,
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertVPNConfig(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "config.generate", target(c.ID), map[string]any{
			"gateway_id": c.GatewayID, "protocol": c.Protocol, "user_id": c.UserID,
			"serial": c.Serial, "expires_at": c.ExpiresAt,
		})
	})
	if err != nil {
		s.abandon(ctx, src, c.Serial)
		return nil, fmt.Errorf("recording config %s: %w", c.ID, err)
	}
	return &Generated{Config: c, DownloadURL: DownloadPath(c.ID), FileName: fileName(g, c)}, nil
}

// abandon revokes the certificate of a configuration that could not be
// recorded, so that no usable certificate exists without its record.
func (s *Service) abandon(ctx context.Context, src audit.Source, serial pki.Serial) {
	if _, err := s.ca.RevokeUnchecked(context.WithoutCancel(ctx), src, serial, pki.CessationOfOperation); err != nil {
		s.log.Error("revoking the certificate of a config that was not recorded", "serial", serial, "error", err)
	}
}

// Download renders configuration id for p, who must be its user, before it
// expires and while the user may still use its gateway. Each download is
// counted and audited.
//
// Errors: unauthorized; forbidden (an API key without gateways:read);
// not_found (no such configuration, another user's, expired (reason
// config_expired), revoked (config_revoked), its gateway's VPN type changed
// since (config_stale), or its gateway is gone or no longer usable).
func (s *Service) Download(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*File, error) {
	if err := authz.Allow(p, actUse, authz.Any); err != nil {
		return nil, err
	}
	c, err := s.store.Read().VPNConfig(ctx, id)
	if fault.Is(err, fault.NotFound) || (err == nil && (p.UserID == 0 || c.UserID != p.UserID)) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	switch {
	case c.Revoked() || c.KeySealed == nil:
		return nil, errRevoked
	case !now.Before(c.ExpiresAt):
		return nil, errExpired
	}
	g, grants, err := s.gateways.UsableGrants(ctx, p, c.GatewayID)
	if err != nil {
		return nil, err
	}
	if string(c.Protocol) != string(g.VPNType) {
		return nil, errStaleType
	}
	var f *File
	if c.Protocol == WireGuard {
		f, err = s.renderWireGuard(c, g, grants)
	} else {
		f, err = s.render(ctx, c, g)
	}
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RecordVPNConfigDownload(ctx, c.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "config.download", target(c.ID), map[string]any{
			"gateway_id": c.GatewayID, "serial": c.Serial,
		})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// render builds c's .ovpn for gateway g from the stored certificate, the
// opened key, the CA and the gateway's tls-crypt key.
func (s *Service) render(ctx context.Context, c *Config, g *gateway.Gateway) (*File, error) {
	cert, err := s.ca.Certificate(ctx, c.Serial)
	if err != nil {
		return nil, fmt.Errorf("reading the certificate of config %s: %w", c.ID, err)
	}
	if cert.Revoked() {
		return nil, errRevoked
	}
	// The profile carries every CA the gateway's group trusts, so it keeps
	// working across a CA rotation until its own CA is revoked.
	trust, err := s.ca.Trust(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(trust.CAs, func(ca *pki.CA) bool { return ca.ID == cert.AuthorityID }) {
		return nil, errStaleCA
	}
	tlsCrypt, err := s.gateways.TLSCryptKey(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	key, err := s.keys.Open(c.KeySealed, sealContext(c.ID))
	if err != nil {
		return nil, fmt.Errorf("opening the key of config %s: %w", c.ID, err)
	}
	defer clear(key)
	body, err := OpenVPNClient{
		Comment:  fmt.Sprintf("netkeep config %s for gateway %s (%s), expires %s", c.ID, g.Name, g.ID, c.ExpiresAt.UTC().Format(time.RFC3339)),
		Remote:   g.Hostname,
		Port:     g.Port,
		Proto:    string(g.Protocol),
		CAPEM:    trust.Bundle,
		CertPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.DER}),
		KeyPEM:   key,
		TLSCrypt: tlsCrypt,
		// A gateway run by GateKey's agent: its server asks for
		// auth-user-pass; the certificate decides, the password is the
		// config's id.
		GateKey:  g.AgentKind == gateway.AgentGateKey,
		Username: c.CommonName,
		Password: c.ID,
	}.Render()
	if err != nil {
		return nil, err
	}
	return &File{Name: fileName(g, c), ContentType: "application/x-openvpn-profile", Body: body}, nil
}

// List returns a page of the configurations p administers, newest first,
// and the total. Keys are never part of it.
// Errors: unauthorized; forbidden (not an administrator, or an API key
// without pki:read).
func (s *Service) List(ctx context.Context, p *authz.Principal, q Query) ([]*Config, int, error) {
	if err := authz.Allow(p, actList, authz.Any); err != nil {
		return nil, 0, err
	}
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, 0, err
	}
	q.GroupID = p.GroupScope()
	return s.store.Read().ListVPNConfigs(ctx, q)
}

// Revoke revokes configuration id and its certificate (reason: an RFC 5280
// name, "" for unspecified) and erases its sealed key; a WireGuard
// configuration has no certificate, its peer leaves the gateway's list and
// its address is freed. Revoking a revoked
// configuration succeeds and changes nothing.
// Errors: unauthorized; forbidden (not an administrator, or an API key
// without pki:write); invalid (reason); not_found (no such configuration or
// another group's).
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id, reason string) (*Config, error) {
	r, err := pki.ParseReason(reason)
	if err != nil {
		return nil, err
	}
	c, err := s.store.Read().VPNConfig(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, actRevoke, authz.Resource{GroupID: c.GroupID}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, errNotFound
		}
		return nil, err
	}
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	if c.Revoked() {
		c.KeySealed = nil
		return c, nil
	}
	// The certificate first: once it is on the CRL the configuration is
	// dead whatever happens next, and a retry finishes the record.
	// A WireGuard configuration has no certificate: dropping it from the
	// gateway's peers (below, with its address lease) is its revocation.
	if c.Protocol != WireGuard {
		if _, err := s.ca.RevokeUnchecked(ctx, src, c.Serial, r); err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
	}
	now := s.stamp()
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RevokeVPNConfig(ctx, c.ID, now); err != nil {
			return err
		}
		details := map[string]any{"serial": c.Serial, "reason": r, "user_id": c.UserID}
		if c.Protocol == WireGuard {
			if err := releaseWireGuard(ctx, tx, c, now); err != nil {
				return err
			}
			details = map[string]any{"reason": r, "user_id": c.UserID, "public_key": c.WireGuardKey, "address": c.Address.String()}
		}
		return audit.Record(ctx, tx, src, c.GroupID, "config.revoke", target(c.ID), details)
	})
	if fault.Is(err, fault.NotFound) { // revoked concurrently
		return s.store.Read().VPNConfig(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	c.RevokedAt, c.KeySealed = &now, nil
	return c, nil
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func parseProtocol(s string) (Protocol, error) {
	switch Protocol(s) {
	case "", OpenVPN, WireGuard:
		return Protocol(s), nil
	}
	return "", invalidField("protocol", fmt.Sprintf("protocol %q must be openvpn or wireguard", s))
}

func invalidField(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// commonName is the certificate subject for p's user: the username, or
// "user-<id>" when it is empty or longer than a CN may be.
func commonName(p *authz.Principal) string {
	if n := strings.TrimSpace(p.Username); n != "" && len(n) <= pki.MaxCommonName {
		return n
	}
	return fmt.Sprintf("user-%d", p.UserID)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "cfg-" + hex.EncodeToString(b[:])
}

// fileName is "<gateway name>-<config id>.ovpn" with the name reduced to
// characters every file system and Content-Disposition parser accepts.
func fileName(g *gateway.Gateway, c *Config) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, g.Name)
	name = strings.Trim(name, "-.")
	if name == "" {
		name = g.ID
	}
	return name + "-" + c.ID + ".ovpn"
}
