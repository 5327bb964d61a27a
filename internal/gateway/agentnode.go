package gateway

import (
	"context"
	"slices"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// The node types GateKey's agents announce on their remote-session channel:
// gatekey-gateway "gateway", gatekey-hub "hub", gatekey-mesh-gateway
// "spoke". In netkeep a hub and a spoke are gateways (a hub's own gateway,
// a hub's gateway spoke), so each authenticates with its gateway's token.
const (
	NodeGateway = "gateway"
	NodeHub     = "hub"
	NodeSpoke   = "spoke"
)

var errNodeType = fault.New(fault.Forbidden, "this gateway is not that kind of node")

// CheckAgentNode checks that p's gateway plays the part nodeType names in
// its group's mesh: any gateway is a "gateway"; a "hub" must be the hub
// gateway of one of its group's hubs, a "spoke" a gateway spoke of one.
// Errors: forbidden (another part, or an unknown node type),
// unauthorized (not a gateway, or deleted meanwhile).
func (s *Service) CheckAgentNode(ctx context.Context, p *authz.Principal, nodeType string) error {
	g, err := s.self(ctx, p, "")
	if err != nil {
		return err
	}
	if nodeType == NodeGateway {
		return nil
	}
	if nodeType != NodeHub && nodeType != NodeSpoke {
		return fault.Errorf(fault.Forbidden, "unknown node type %q", nodeType)
	}
	hubs, err := s.store.Read().ListMeshHubs(ctx, g.GroupID)
	if err != nil {
		return err
	}
	for _, h := range hubs {
		if nodeType == NodeHub && h.GatewayID == g.ID ||
			nodeType == NodeSpoke && slices.Contains(h.Spokes, Spoke{Kind: SpokeGateway, ID: g.ID}) {
			return nil
		}
	}
	return errNodeType
}
