package gateway

import (
	"context"
	"slices"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// ProvisionMeshNode prepares the host of one node of hub hubID for its
// agent: the hub's own gateway (spokeGatewayID "") or the hub's gateway
// spoke spokeGatewayID. In netkeep a hub and a spoke are gateways, and what
// their host needs from the control plane is its gateway's token (with it
// the agent fetches its certificates, key and settings from the gateway
// API), which is kept only as a hash: so provisioning issues the gateway a
// new token, returned once, and the old one stops working (an agent still
// running with it must be given the new one). Audited as mesh.provision on
// the gateway, with the hub and the node's part.
//
// Errors: forbidden (no administrator, or no gateways:write), not_found
// (hub, or a spoke the hub does not have; another group's hub alike).
func (s *Service) ProvisionMeshNode(ctx context.Context, p *authz.Principal, src audit.Source, hubID, spokeGatewayID string) (*Created, error) {
	return s.replaceToken(ctx, src, func(tx Tx) (*Gateway, string, map[string]any, error) {
		h, err := tx.MeshHubByID(ctx, hubID)
		if err != nil {
			return nil, "", nil, notFoundAs(err, errHubNotFound)
		}
		if err := allowAdmin(p, actGatewaysWrite, h.GroupID, errHubNotFound); err != nil {
			return nil, "", nil, err
		}
		id, node := h.GatewayID, NodeHub
		if spokeGatewayID != "" {
			if !slices.Contains(h.Spokes, Spoke{Kind: SpokeGateway, ID: spokeGatewayID}) {
				return nil, "", nil, errSpokeNotFound
			}
			id, node = spokeGatewayID, NodeSpoke
		}
		g, err := tx.GatewayByID(ctx, id)
		if err != nil {
			return nil, "", nil, notFoundAs(err, errGatewayNotFound)
		}
		return g, "mesh.provision", map[string]any{"mesh_hub": h.ID, "node": node}, nil
	})
}
