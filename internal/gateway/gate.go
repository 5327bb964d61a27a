package gateway

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

// AddressGate decides whether user u may connect through gateway gatewayID
// from addr, the client's public address as the gateway saw it; an error
// refuses the client and is returned as it is (geo-fencing returns
// forbidden, reason geo_blocked). The gate audits its own refusals.
type AddressGate func(ctx context.Context, u *identity.User, gatewayID, addr string) error

// WithAddressGate asks g at every verification that reports the client's
// address (verify, connect, client-rules).
func WithAddressGate(g AddressGate) Option { return func(s *Service) { s.gate = g } }

// RecordAgent notes which agent serves p's gateway (from how it presented
// its token), audited when it changes: the gateway's OpenVPN profiles take
// the form that agent's server configuration expects.
// Errors: forbidden, unauthorized, invalid (an unknown kind).
func (s *Service) RecordAgent(ctx context.Context, p *authz.Principal, src audit.Source, kind AgentKind) error {
	if kind != AgentNetkeep && kind != AgentGateKey {
		return invalidField("agent", "unknown agent kind")
	}
	g, err := s.self(ctx, p, "")
	if err != nil || g.AgentKind == kind {
		return err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.SetGatewayAgent(ctx, g.ID, kind, s.stamp()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.GroupID, "gateway.agent", gatewayTarget(g.ID),
			map[string]any{"agent": kind, "previous": g.AgentKind})
	})
	if err != nil {
		return notFoundAs(err, errBadToken)
	}
	s.publish(ctx, "gateway.updated", g.GroupID, g.ID)
	return nil
}
