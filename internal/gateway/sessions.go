package gateway

import (
	"cmp"
	"context"
	"net/netip"
	"slices"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Connection is a gateway's report of a client connecting or
// disconnecting. The client is named by its certificate (as for Verify);
// ClientIP and VPNAddress are optional addresses; the byte counters are
// read at disconnection.
type Connection struct {
	ClientCert
	ClientIP   string
	VPNAddress string
	BytesIn    int64
	BytesOut   int64
}

func sessionTarget(id string) string { return "vpn-session:" + id }

// optionalAddr validates an optional IP address field.
func optionalAddr(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", invalidField(field, field+" must be an IP address")
	}
	return a.Unmap().String(), nil
}

// Connect records that a client connected through p's gateway, after the
// checks of Verify (a refused client gets no session). A session still open
// for the same certificate on this gateway is closed first: OpenVPN
// replaces a reconnecting client's old connection.
// Errors: as Verify.
func (s *Service) Connect(ctx context.Context, p *authz.Principal, src audit.Source, in Connection) (*Session, error) {
	g, err := s.self(ctx, p, in.GatewayID)
	if err != nil {
		return nil, err
	}
	clientIP, err := optionalAddr("client_ip", in.ClientIP)
	if err != nil {
		return nil, err
	}
	vpnAddr, err := optionalAddr("vpn_address", in.VPNAddress)
	if err != nil {
		return nil, err
	}
	v, err := s.verify(ctx, g, in.ClientCert)
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	sess := &Session{ID: newID("sess-"), GatewayID: g.ID, GroupID: g.GroupID, UserID: v.User.ID, Username: v.User.Username,
		CommonName: v.Certificate.CommonName, Serial: string(v.Certificate.Serial), ClientIP: clientIP, VPNAddress: vpnAddr,
		ConnectedAt: now}
	err = s.store.InTx(ctx, func(tx Tx) error {
		old, err := tx.ActiveVPNSession(ctx, g.ID, sess.Serial)
		switch {
		case err == nil:
			old.DisconnectedAt = &now
			if err := tx.EndVPNSession(ctx, old); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, src, g.GroupID, "vpn-session.disconnect", sessionTarget(old.ID),
				map[string]any{"gateway_id": g.ID, "user_id": old.UserID, "replaced_by": sess.ID}); err != nil {
				return err
			}
		case !fault.Is(err, fault.NotFound):
			return err
		}
		if err := tx.InsertVPNSession(ctx, sess); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, "vpn-session.connect", sessionTarget(sess.ID), map[string]any{
			"gateway_id": g.ID, "user_id": sess.UserID, "serial": sess.Serial, "client_ip": clientIP, "vpn_address": vpnAddr,
		})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "session.connected", g.GroupID, sess.ID)
	return sess, nil
}

// Disconnect closes the open session of the client's certificate on p's
// gateway, with its byte counters. It does not re-check the certificate: a
// revoked client's disconnection is still recorded. Without a serial or
// certificate the session is the newest open one of the common name (and
// ClientIP, VPNAddress when given): GateKey's agent reports no serial.
// Errors: forbidden, unauthorized, invalid (serial, counters), not_found
// (no open session).
func (s *Service) Disconnect(ctx context.Context, p *authz.Principal, src audit.Source, in Connection) (*Session, error) {
	g, err := s.self(ctx, p, in.GatewayID)
	if err != nil {
		return nil, err
	}
	if in.BytesIn < 0 || in.BytesOut < 0 {
		return nil, invalidField("bytes_received", "byte counters must not be negative")
	}
	find, err := s.sessionOf(ctx, g, in)
	if err != nil {
		return nil, err
	}
	var sess *Session
	err = s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if sess, err = find(tx, g.ID); err != nil {
			return err
		}
		now := s.stamp()
		sess.DisconnectedAt, sess.BytesIn, sess.BytesOut = &now, in.BytesIn, in.BytesOut
		if err := tx.EndVPNSession(ctx, sess); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, "vpn-session.disconnect", sessionTarget(sess.ID), map[string]any{
			"gateway_id": g.ID, "user_id": sess.UserID, "bytes_received": sess.BytesIn, "bytes_sent": sess.BytesOut,
			"duration_seconds": int64(now.Sub(sess.ConnectedAt).Seconds()),
		})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "session.disconnected", g.GroupID, sess.ID)
	return sess, nil
}

// Sessions lists the sessions p administers matching q (its GroupID is
// replaced by p's scope; a GatewayID of another group finds nothing),
// newest first, with the total count. Errors: forbidden.
func (s *Service) Sessions(ctx context.Context, p *authz.Principal, q SessionQuery) ([]*Session, int, error) {
	if err := allowAdminAny(p, actGatewaysRead); err != nil {
		return nil, 0, err
	}
	q.GroupID = p.GroupScope()
	return s.store.Read().ListVPNSessions(ctx, q)
}

// RuleSet is everything a gateway enforces: its networks and the enabled
// access rules for them, at ConfigVersion.
type RuleSet struct {
	Gateway  *Gateway
	Networks []*Network
	Rules    []*Rule
	// Hubs is the gateway's part in its group's mesh hubs, with what it
	// routes through each (topology.go).
	Hubs []HubRoute
}

// AllRules returns p's gateway's rule set, for its periodic refresh, with
// the hub topology it takes part in.
// Errors: forbidden, unauthorized.
func (s *Service) AllRules(ctx context.Context, p *authz.Principal, claimed string) (*RuleSet, error) {
	g, err := s.self(ctx, p, claimed)
	if err != nil {
		return nil, err
	}
	pol, err := loadPolicy(ctx, s.store.Read(), g.GroupID)
	if err != nil {
		return nil, err
	}
	hubs, err := s.store.Read().ListMeshHubs(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	set := &RuleSet{Gateway: g, Networks: []*Network{}, Rules: pol.gatewayRules(g), Hubs: pol.hubRoutes(hubs, g)}
	for _, n := range pol.networks {
		for _, id := range n.GatewayIDs {
			if id == g.ID {
				set.Networks = append(set.Networks, n)
			}
		}
	}
	slices.SortFunc(set.Networks, func(a, b *Network) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return set, nil
}

// sessionOf returns how to find in's open session: by its certificate's
// serial, or (no serial nor certificate given) by common name and
// addresses. Errors: invalid.
func (s *Service) sessionOf(ctx context.Context, g *Gateway, in Connection) (func(tx Tx, gatewayID string) (*Session, error), error) {
	errNone := fault.New(fault.NotFound, "no open session for this certificate")
	if in.Serial == "" && in.PEM == "" {
		m, err := SessionMatch{CommonName: in.CommonName, ClientIP: in.ClientIP, VPNAddress: in.VPNAddress}.valid()
		if err != nil {
			return nil, err
		}
		return func(tx Tx, gatewayID string) (*Session, error) {
			sess, err := tx.MatchVPNSession(ctx, gatewayID, m)
			return sess, notFoundAs(err, errNoSession)
		}, nil
	}
	c, err := s.clientCertificate(ctx, g, in.ClientCert)
	if fault.Is(err, fault.Forbidden) {
		err = errNone
	}
	if err != nil {
		return nil, err
	}
	return func(tx Tx, gatewayID string) (*Session, error) {
		sess, err := tx.ActiveVPNSession(ctx, gatewayID, string(c.Serial))
		return sess, notFoundAs(err, errNone)
	}, nil
}
