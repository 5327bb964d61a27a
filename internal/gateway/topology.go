package gateway

import (
	"net/netip"
	"slices"
)

// The hub roles of a gateway in a mesh hub.
const (
	RoleHub   = "hub"
	RoleSpoke = "spoke"
)

// HubRoute is one mesh hub a gateway takes part in, as the hub itself or as
// one of its gateway spokes, with the prefixes it must route through the
// mesh: a hub routes to every spoke's networks; a spoke routes to the
// networks behind the hub and behind the other spokes (spoke to spoke
// traffic goes through the hub).
type HubRoute struct {
	Hub    *Hub
	Role   string
	Routes []netip.Prefix // sorted, distinct
}

// siteCIDRs is what one site of a hub brings: a spoke network's CIDR, or
// the CIDRs of the networks behind a gateway.
func (p *policy) siteCIDRs(sp Spoke) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range p.networks {
		if (sp.Kind == SpokeNetwork && n.ID == sp.ID) || (sp.Kind == SpokeGateway && slices.Contains(n.GatewayIDs, sp.ID)) {
			out = append(out, n.CIDR)
		}
	}
	return out
}

// hubRoutes returns g's part in each of hubs (its group's), by hub name.
func (p *policy) hubRoutes(hubs []*Hub, g *Gateway) []HubRoute {
	out := []HubRoute{}
	for _, h := range hubs {
		self := Spoke{Kind: SpokeGateway, ID: g.ID}
		var routes []netip.Prefix
		role := RoleSpoke
		switch {
		case h.GatewayID == g.ID:
			role = RoleHub
			for _, sp := range h.Spokes {
				routes = append(routes, p.siteCIDRs(sp)...)
			}
		case slices.Contains(h.Spokes, self):
			routes = append(routes, p.siteCIDRs(Spoke{Kind: SpokeGateway, ID: h.GatewayID})...)
			for _, sp := range h.Spokes {
				if sp != self {
					routes = append(routes, p.siteCIDRs(sp)...)
				}
			}
		default:
			continue
		}
		out = append(out, HubRoute{Hub: h, Role: role, Routes: sortPrefixes(routes)})
	}
	return out
}
