package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
)

// GatewayInput is a gateway's settings as a caller gives them. On create,
// nil fields take their defaults (Port 1194, Protocol udp, VPNType openvpn,
// VPNSubnet 10.8.0.0/24; Name and Hostname are required); on update, nil
// fields keep their value. GroupID, on create only, lets a SUPER_ADMIN or
// the master key place the gateway in another group.
type GatewayInput struct {
	GroupID     *int64
	Name        *string
	Description *string
	Hostname    *string
	Port        *int
	Protocol    *string
	VPNType     *string
	VPNSubnet   *string
}

// apply validates in over g, changing g, and returns the names of the
// fields that changed.
func (in GatewayInput) apply(g *Gateway) ([]string, error) {
	var changed []string
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if err := validName("name", name); err != nil {
			return nil, err
		}
		if name != g.Name {
			g.Name, changed = name, append(changed, "name")
		}
	}
	if in.Description != nil {
		if err := validDescription(*in.Description); err != nil {
			return nil, err
		}
		if *in.Description != g.Description {
			g.Description, changed = *in.Description, append(changed, "description")
		}
	}
	if in.Hostname != nil {
		host := strings.ToLower(strings.TrimSpace(*in.Hostname))
		if err := validHostname(host); err != nil {
			return nil, err
		}
		if host != g.Hostname {
			g.Hostname, changed = host, append(changed, "hostname")
		}
	}
	if in.Port != nil {
		if err := validPort("port", *in.Port); err != nil {
			return nil, err
		}
		if *in.Port != g.Port {
			g.Port, changed = *in.Port, append(changed, "port")
		}
	}
	if in.Protocol != nil {
		p, err := parseProtocol(*in.Protocol)
		if err != nil {
			return nil, err
		}
		if p != g.Protocol {
			g.Protocol, changed = p, append(changed, "protocol")
		}
	}
	if in.VPNType != nil {
		t, err := parseVPNType(*in.VPNType)
		if err != nil {
			return nil, err
		}
		if t != g.VPNType {
			g.VPNType, changed = t, append(changed, "vpn_type")
		}
	}
	if in.VPNSubnet != nil {
		p, err := parseVPNSubnet(*in.VPNSubnet)
		if err != nil {
			return nil, err
		}
		if p != g.VPNSubnet {
			g.VPNSubnet, changed = p, append(changed, "vpn_subnet")
		}
	}
	return changed, nil
}

// tokenPrefix marks gateway tokens, so that a token pasted in the wrong
// place is recognisable (and secret scanners can find leaked ones).
const tokenPrefix = "gwt_"

// newToken returns a gateway token (256 random bits) and its SHA-256.
func newToken() (string, [32]byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, sha256.Sum256([]byte(tok))
}

func gatewayTarget(id string) string { return "gateway:" + id }

// targetGroup is the group a new object of p goes to: p's own, or for a
// super principal the one it names (required for the master key, which has
// no group). Errors: invalid, not_found (another group, for others).
func targetGroup(ctx context.Context, tx Tx, p *authz.Principal, want *int64) (int64, error) {
	if want == nil || *want == p.GroupID {
		if p.GroupID == 0 {
			return 0, invalidField("group_id", "group_id is required for a credential without a group")
		}
		return p.GroupID, nil
	}
	if !p.IsSuper() {
		return 0, fault.New(fault.NotFound, "group not found").WithDetails(map[string]any{"field": "group_id"})
	}
	if _, err := tx.GroupByID(ctx, *want); err != nil {
		return 0, notFoundAs(err, fault.New(fault.NotFound, "group not found").WithDetails(map[string]any{"field": "group_id"}))
	}
	return *want, nil
}

// CreateGateway creates a gateway of p's group (p needs gateways:write) and
// returns it with its token, which is never shown again. Errors: invalid,
// forbidden, conflict (name taken in the group), not_found (group_id).
func (s *Service) CreateGateway(ctx context.Context, p *authz.Principal, src audit.Source, in GatewayInput) (*Created, error) {
	if err := allowAdminAny(p, actGatewaysWrite); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalidField("name", "name is required")
	}
	if in.Hostname == nil {
		return nil, invalidField("hostname", "hostname is required")
	}
	now := s.stamp()
	g := &Gateway{ID: newID("gw-"), Port: DefaultPort, Protocol: ProtocolUDP, VPNType: VPNOpenVPN,
		VPNSubnet: DefaultVPNSubnet, ConfigVersion: 1, CreatedAt: now, UpdatedAt: now}
	if _, err := in.apply(g); err != nil {
		return nil, err
	}
	tok, hash := newToken()
	sealed, err := s.keys.Seal(newTLSCryptKey(), tlsCryptContext(g.ID))
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if g.GroupID, err = targetGroup(ctx, tx, p, in.GroupID); err != nil {
			return err
		}
		if err := tx.InsertGateway(ctx, g, hash, sealed); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, "gateway.create", gatewayTarget(g.ID), map[string]any{
			"name": g.Name, "hostname": g.Hostname, "port": g.Port, "protocol": g.Protocol, "vpn_type": g.VPNType,
			"vpn_subnet": g.VPNSubnet.String(),
		})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "gateway.created", g.GroupID, g.ID)
	return &Created{Gateway: g, Token: tok}, nil
}

// AdminGateway returns a gateway of p's group for the admin API.
// Errors: not_found, forbidden.
func (s *Service) AdminGateway(ctx context.Context, p *authz.Principal, id string) (*Gateway, error) {
	g, err := s.store.Read().GatewayByID(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errGatewayNotFound)
	}
	if err := allowAdmin(p, actGatewaysRead, g.GroupID, errGatewayNotFound); err != nil {
		return nil, err
	}
	return g, nil
}

// AdminGateways lists every gateway p administers, by name.
// Errors: forbidden.
func (s *Service) AdminGateways(ctx context.Context, p *authz.Principal) ([]*Gateway, error) {
	if err := allowAdminAny(p, actGatewaysRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListGateways(ctx, p.GroupScope())
}

// UpdateGateway changes a gateway's settings (nil fields are kept). A change
// raises its config version, so the agent picks it up at its next
// heartbeat; a new hostname also makes it ask for reprovisioning.
// Errors: invalid, forbidden, not_found, conflict (name).
func (s *Service) UpdateGateway(ctx context.Context, p *authz.Principal, src audit.Source, id string, in GatewayInput) (*Gateway, error) {
	if in.GroupID != nil {
		return nil, invalidField("group_id", "a gateway cannot move to another group")
	}
	var (
		g         *Gateway
		unchanged bool
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := writableGateway(ctx, tx, p, id)
		if err != nil {
			return err
		}
		next := *cur
		changed, err := in.apply(&next)
		if err != nil || len(changed) == 0 {
			g, unchanged = cur, true
			return err
		}
		g = &next
		return s.saveChange(ctx, tx, src, g, "gateway.update", map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	if !unchanged {
		s.publish(ctx, "gateway.updated", g.GroupID, g.ID)
	}
	return g, nil
}

// RegenerateToken replaces a gateway's token: the old one stops working at
// once. The new token is returned this once. Errors: forbidden, not_found.
func (s *Service) RegenerateToken(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*Created, error) {
	return s.replaceToken(ctx, src, func(tx Tx) (*Gateway, string, map[string]any, error) {
		g, err := writableGateway(ctx, tx, p, id)
		if err != nil {
			return nil, "", nil, err
		}
		return g, "gateway.token.regenerate", nil, nil
	})
}

// saveChange writes g, changed, with its config version raised (so its
// agent refreshes at the next heartbeat) and the audit entry of action.
func (s *Service) saveChange(ctx context.Context, tx Tx, src audit.Source, g *Gateway, action string, details map[string]any) error {
	g.ConfigVersion++
	g.UpdatedAt = s.stamp()
	if err := tx.UpdateGateway(ctx, g); err != nil {
		return err
	}
	return audit.Record(ctx, tx, src, g.GroupID, action, gatewayTarget(g.ID), details)
}

// writableGateway reads gateway id in tx for p to change it (gateways:write
// over its group). Errors: not_found (also another group's), forbidden.
func writableGateway(ctx context.Context, tx Tx, p *authz.Principal, id string) (*Gateway, error) {
	g, err := tx.GatewayByID(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errGatewayNotFound)
	}
	if err := allowAdmin(p, actGatewaysWrite, g.GroupID, errGatewayNotFound); err != nil {
		return nil, err
	}
	return g, nil
}

// replaceToken gives the gateway pick finds (and authorizes) a new token in
// one transaction with its audit entry (pick's action and details on the
// gateway), and tells the gateway's listeners its old token is gone.
func (s *Service) replaceToken(ctx context.Context, src audit.Source,
	pick func(tx Tx) (g *Gateway, action string, details map[string]any, err error)) (*Created, error) {
	tok, hash := newToken()
	var g *Gateway
	err := s.store.InTx(ctx, func(tx Tx) error {
		var (
			action  string
			details map[string]any
			err     error
		)
		if g, action, details, err = pick(tx); err != nil {
			return err
		}
		g.UpdatedAt = s.stamp()
		if err := tx.SetGatewayToken(ctx, g.ID, hash, g.UpdatedAt); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, action, gatewayTarget(g.ID), details)
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "gateway.token", g.GroupID, g.ID)
	return &Created{Gateway: g, Token: tok}, nil
}

// DeleteGateway deletes a gateway with its network links, spokes and
// sessions, after revoking its server certificates (so that a deleted
// gateway's certificate is on the CRL even if the deletion then fails).
// A gateway that is a mesh hub cannot be deleted before the hub.
// Errors: forbidden, not_found, conflict.
func (s *Service) DeleteGateway(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	g, err := s.store.Read().GatewayByID(ctx, id)
	if err != nil {
		return notFoundAs(err, errGatewayNotFound)
	}
	if err := allowAdmin(p, actGatewaysWrite, g.GroupID, errGatewayNotFound); err != nil {
		return err
	}
	if err := s.checkNotHub(ctx, s.store.Read(), id); err != nil {
		return err
	}
	if _, err := s.pki.RevokeOwned(ctx, src, pki.Owner{GatewayID: id}, pki.CessationOfOperation); err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := s.checkNotHub(ctx, tx, id); err != nil {
			return err
		}
		hubs, err := s.hubsWithSpoke(ctx, tx, g.GroupID, SpokeGateway, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteGateway(ctx, id); err != nil {
			return notFoundAs(err, errGatewayNotFound)
		}
		if err := tx.BumpGatewayVersions(ctx, hubs, s.stamp()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, "gateway.delete", gatewayTarget(id), map[string]any{"name": g.Name})
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "gateway.deleted", g.GroupID, id)
	return nil
}

func (s *Service) checkNotHub(ctx context.Context, tx Tx, id string) error {
	n, err := tx.CountHubsOf(ctx, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fault.New(fault.Conflict, "the gateway is a mesh hub; delete the hub first")
	}
	return nil
}

// UsableGateway returns gateway id if p's user may connect through it now:
// the gateway is in p's group and an enabled access rule grants the user a
// network behind it (default deny). Config generation calls it before
// issuing a client certificate.
//
// Errors: unauthorized (no principal); invalid (a credential without a
// user, such as the master key: VPN access belongs to users); not_found
// (no such gateway, another group's, or, for a USER, one it may not use);
// forbidden (an administrator of the group without such a rule, or an API
// key without gateways:read).
func (s *Service) UsableGateway(ctx context.Context, p *authz.Principal, id string) (*Gateway, error) {
	g, _, err := s.UsableGrants(ctx, p, id)
	return g, err
}

// UsableGrants is UsableGateway that also returns what p's user may reach
// through the gateway (never empty when err is nil); the errors are
// UsableGateway's.
func (s *Service) UsableGrants(ctx context.Context, p *authz.Principal, id string) (*Gateway, []Grant, error) {
	if err := authz.Allow(p, actGatewaysRead, authz.Any); err != nil {
		return nil, nil, err
	}
	if p.UserID == 0 {
		return nil, nil, fault.New(fault.Invalid, "VPN access belongs to a user; this credential has none")
	}
	rd := s.store.Read()
	g, err := rd.GatewayByID(ctx, id)
	if err != nil {
		return nil, nil, notFoundAs(err, errGatewayNotFound)
	}
	if err := allowGroup(p, actGatewaysRead, g.GroupID, errGatewayNotFound); err != nil {
		return nil, nil, err
	}
	u, err := rd.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, nil, err
	}
	grants, err := userGrants(ctx, rd, g, u)
	if err != nil {
		return nil, nil, err
	}
	if len(grants) == 0 {
		if isAdminUser(u) {
			return nil, nil, fault.New(fault.Forbidden, "no access rule grants you a network behind this gateway")
		}
		return nil, nil, errGatewayNotFound
	}
	return g, grants, nil
}

// UsableGateways lists the gateways p's user may connect through (see
// UsableGateway), by name; empty for a credential without a user.
func (s *Service) UsableGateways(ctx context.Context, p *authz.Principal) ([]*Gateway, error) {
	if err := authz.Allow(p, actGatewaysRead, authz.Any); err != nil {
		return nil, err
	}
	if p.UserID == 0 {
		return []*Gateway{}, nil
	}
	rd := s.store.Read()
	u, err := rd.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	// A user's access rules are in the user's own group, whatever groups a
	// SUPER_ADMIN may administer.
	all, err := rd.ListGateways(ctx, u.GroupID)
	if err != nil {
		return nil, err
	}
	pol, err := loadPolicy(ctx, rd, u.GroupID)
	if err != nil {
		return nil, err
	}
	out := make([]*Gateway, 0, len(all))
	for _, g := range all {
		if len(pol.grants(g, u)) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

func isAdminUser(u *identity.User) bool {
	return u.Role == identity.SuperAdmin || u.Role == identity.GroupAdmin
}
