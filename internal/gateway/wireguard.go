package gateway

import (
	"context"
	"net/netip"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// TunnelAddress is a WireGuard gateway's own address on its tunnel: the
// first host of its VPN subnet, with the subnet's length (what wg-quick's
// Address takes). Client addresses are allocated from the hosts after it.
func (g *Gateway) TunnelAddress() netip.Prefix {
	return netip.PrefixFrom(g.VPNSubnet.Masked().Addr().Next(), g.VPNSubnet.Bits())
}

// AgentGateway returns the gateway p (a gateway agent's principal)
// authenticates; claimed, when not empty, must be that gateway's ID.
// Errors: forbidden (not a gateway agent, or claiming another gateway);
// unauthorized (the gateway was deleted meanwhile).
func (s *Service) AgentGateway(ctx context.Context, p *authz.Principal, claimed string) (*Gateway, error) {
	return s.self(ctx, p, claimed)
}

// Entitled reports which of userIDs may use gateway g now: active users of
// g's group whom an enabled access rule grants a network behind g. Unknown
// (deleted) users are not entitled. A WireGuard gateway has no per-connection
// check like OpenVPN's /verify, so its peer list is filtered with this.
func (s *Service) Entitled(ctx context.Context, g *Gateway, userIDs []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rd := s.store.Read()
	pol, err := loadPolicy(ctx, rd, g.GroupID)
	if err != nil {
		return nil, err
	}
	for _, id := range userIDs {
		if _, done := out[id]; done {
			continue
		}
		u, err := rd.UserByID(ctx, id)
		if fault.Is(err, fault.NotFound) {
			out[id] = false
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = len(pol.grants(g, u)) > 0
	}
	return out, nil
}
