package gateway

import (
	"context"
	"slices"

	"netkeep/internal/identity"
)

// policy is the access state of one group as rules are evaluated against it.
type policy struct {
	networks map[string]*Network
	rules    []*Rule
}

// loadPolicy reads groupID's networks and rules.
func loadPolicy(ctx context.Context, tx Tx, groupID int64) (*policy, error) {
	nets, err := tx.ListVPNNetworks(ctx, groupID)
	if err != nil {
		return nil, err
	}
	rules, err := tx.ListAccessRules(ctx, groupID)
	if err != nil {
		return nil, err
	}
	p := &policy{networks: make(map[string]*Network, len(nets)), rules: rules}
	for _, n := range nets {
		p.networks[n.ID] = n
	}
	return p, nil
}

// names reports whether r grants u: u is listed, or u's group is.
func (r *Rule) names(u *identity.User) bool {
	return slices.Contains(r.UserIDs, u.ID) || slices.Contains(r.GroupIDs, u.GroupID)
}

// grants returns what u may reach through gateway g: the destinations of
// every enabled rule naming u for a network behind g. A user outside g's
// group, or an inactive one, gets nothing (default deny).
func (p *policy) grants(g *Gateway, u *identity.User) []Grant {
	if u.GroupID != g.GroupID {
		return nil
	}
	return p.grantsWhere(u, func(n *Network) bool { return slices.Contains(n.GatewayIDs, g.ID) })
}

// networkGrants returns what u may reach in the networks whose IDs nets
// holds, as grants does for one gateway's. The caller has checked u's group.
func (p *policy) networkGrants(nets map[string]bool, u *identity.User) []Grant {
	return p.grantsWhere(u, func(n *Network) bool { return nets[n.ID] })
}

// grantsWhere returns the grants of every enabled rule naming u (an active
// user) for a network that in accepts.
func (p *policy) grantsWhere(u *identity.User, in func(*Network) bool) []Grant {
	if !u.IsActive {
		return nil
	}
	var out []Grant
	for _, r := range p.rules {
		if !r.Enabled || !r.names(u) {
			continue
		}
		n := p.networks[r.NetworkID]
		if n == nil || !in(n) {
			continue
		}
		out = append(out, Grant{RuleID: r.ID, NetworkID: n.ID, Destination: r.Destination, Protocol: r.Protocol, Ports: r.Ports})
	}
	return out
}

// userGrants is policy.grants for one gateway, read with one query
// (Tx.UserRules) instead of the group's whole policy: the path of /verify.
func userGrants(ctx context.Context, tx Tx, g *Gateway, u *identity.User) ([]Grant, error) {
	if !u.IsActive || u.GroupID != g.GroupID {
		return nil, nil
	}
	rules, err := tx.UserRules(ctx, g.ID, u.ID, u.GroupID)
	if err != nil {
		return nil, err
	}
	out := make([]Grant, 0, len(rules))
	for _, r := range rules {
		out = append(out, Grant{RuleID: r.ID, NetworkID: r.NetworkID, Destination: r.Destination, Protocol: r.Protocol, Ports: r.Ports})
	}
	return out, nil
}

// gatewayRules returns every enabled rule for a network behind g, each with
// its network: what the gateway enforces for all its clients.
func (p *policy) gatewayRules(g *Gateway) []*Rule {
	var out []*Rule
	for _, r := range p.rules {
		if n := p.networks[r.NetworkID]; r.Enabled && n != nil && slices.Contains(n.GatewayIDs, g.ID) {
			out = append(out, r)
		}
	}
	return out
}
