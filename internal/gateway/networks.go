package gateway

import (
	"context"
	"slices"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// NetworkInput is a network as a caller gives it. On create Name and CIDR
// are required; on update nil fields keep their value. GatewayIDs, when
// given, replaces the set of gateways the network is behind; each must be a
// gateway of the network's group.
type NetworkInput struct {
	GroupID     *int64
	Name        *string
	Description *string
	CIDR        *string
	GatewayIDs  *[]string
}

func networkTarget(id string) string { return "vpn-network:" + id }

// apply validates in over n (except the gateways, which need the store) and
// returns the names of the fields that changed.
func (in NetworkInput) apply(n *Network) ([]string, error) {
	changed, err := applyLabel(in.Name, in.Description, &n.Name, &n.Description)
	if err != nil {
		return nil, err
	}
	if in.CIDR != nil {
		p, err := parsePrefix("cidr", *in.CIDR)
		if err != nil {
			return nil, err
		}
		if p != n.CIDR {
			n.CIDR, changed = p, append(changed, "cidr")
		}
	}
	return changed, nil
}

// resolveGateways checks that every id is a gateway of groupID and returns
// them sorted without duplicates. Another group's gateway is not found.
func resolveGateways(ctx context.Context, tx Tx, groupID int64, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		g, err := tx.GatewayByID(ctx, id)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		if err != nil || g.GroupID != groupID {
			return nil, fault.Errorf(fault.NotFound, "gateway %q not found", id).WithDetails(map[string]any{"field": "gateway_ids"})
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CreateNetwork creates a network of p's group. Errors: invalid, forbidden,
// conflict (name taken in the group), not_found (a gateway or group_id).
func (s *Service) CreateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, in NetworkInput) (*Network, error) {
	if err := allowAdminAny(p, actNetworksWrite); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalidField("name", "name is required")
	}
	if in.CIDR == nil {
		return nil, invalidField("cidr", "cidr is required")
	}
	now := s.stamp()
	n := &Network{ID: newID("net-"), GatewayIDs: []string{}, CreatedAt: now, UpdatedAt: now}
	if _, err := in.apply(n); err != nil {
		return nil, err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if n.GroupID, err = targetGroup(ctx, tx, p, in.GroupID); err != nil {
			return err
		}
		if in.GatewayIDs != nil {
			if n.GatewayIDs, err = resolveGateways(ctx, tx, n.GroupID, *in.GatewayIDs); err != nil {
				return err
			}
		}
		if err := tx.InsertVPNNetwork(ctx, n); err != nil {
			return err
		}
		if err := tx.BumpGatewayVersions(ctx, n.GatewayIDs, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, n.GroupID, "vpn-network.create", networkTarget(n.ID), map[string]any{
			"name": n.Name, "cidr": n.CIDR.String(), "gateway_ids": n.GatewayIDs,
		})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "network.created", n.GroupID, n.ID)
	return n, nil
}

// Networks lists the networks p administers, by name. Errors: forbidden.
func (s *Service) Networks(ctx context.Context, p *authz.Principal) ([]*Network, error) {
	if err := allowAdminAny(p, actNetworksRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListVPNNetworks(ctx, p.GroupScope())
}

// UpdateNetwork changes a network; the gateways it was and is behind get a
// new config version. Errors: invalid, forbidden, not_found, conflict.
func (s *Service) UpdateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, id string, in NetworkInput) (*Network, error) {
	if in.GroupID != nil {
		return nil, invalidField("group_id", "a network cannot move to another group")
	}
	var (
		n         *Network
		unchanged bool
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.VPNNetworkByID(ctx, id)
		if err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		if err := allowAdmin(p, actNetworksWrite, cur.GroupID, errNetworkNotFound); err != nil {
			return err
		}
		next := *cur
		changed, err := in.apply(&next)
		if err != nil {
			return err
		}
		if in.GatewayIDs != nil {
			ids, err := resolveGateways(ctx, tx, cur.GroupID, *in.GatewayIDs)
			if err != nil {
				return err
			}
			if !slices.Equal(ids, cur.GatewayIDs) {
				next.GatewayIDs, changed = ids, append(changed, "gateway_ids")
			}
		}
		if len(changed) == 0 {
			n, unchanged = cur, true
			return nil
		}
		if slices.Contains(changed, "cidr") {
			if err := s.checkRulesFit(ctx, tx, &next); err != nil {
				return err
			}
		}
		next.UpdatedAt = s.stamp()
		if err := tx.UpdateVPNNetwork(ctx, &next); err != nil {
			return err
		}
		affected := append(append([]string(nil), cur.GatewayIDs...), next.GatewayIDs...)
		if err := tx.BumpGatewayVersions(ctx, affected, next.UpdatedAt); err != nil {
			return err
		}
		n = &next
		return audit.Record(ctx, tx, src, n.GroupID, "vpn-network.update", networkTarget(n.ID), map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	if !unchanged {
		s.publish(ctx, "network.updated", n.GroupID, n.ID)
	}
	return n, nil
}

// checkRulesFit refuses a new CIDR that would leave a rule's destination
// outside its network.
func (s *Service) checkRulesFit(ctx context.Context, tx Tx, n *Network) error {
	rules, err := tx.ListAccessRules(ctx, n.GroupID)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.NetworkID == n.ID && !within(r.Destination, n.CIDR) {
			return fault.Errorf(fault.Conflict, "access rule %q reaches %s, outside %s; change the rule first", r.Name, r.Destination, n.CIDR).
				WithDetails(map[string]any{"field": "cidr", "rule_id": r.ID})
		}
	}
	return nil
}

// DeleteNetwork deletes a network that no access rule refers to; it leaves
// the hubs it was a spoke of. Errors: forbidden, not_found, conflict.
func (s *Service) DeleteNetwork(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	var n *Network
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.VPNNetworkByID(ctx, id); err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		if err := allowAdmin(p, actNetworksWrite, n.GroupID, errNetworkNotFound); err != nil {
			return err
		}
		rules, err := tx.CountNetworkRules(ctx, id)
		if err != nil {
			return err
		}
		if rules > 0 {
			return fault.Errorf(fault.Conflict, "%d access rule(s) refer to this network; delete them first", rules)
		}
		hubs, err := s.hubsWithSpoke(ctx, tx, n.GroupID, SpokeNetwork, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteVPNNetwork(ctx, id); err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		if err := tx.BumpGatewayVersions(ctx, append(hubs, n.GatewayIDs...), s.stamp()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, n.GroupID, "vpn-network.delete", networkTarget(id), map[string]any{"name": n.Name})
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "network.deleted", n.GroupID, id)
	return nil
}

// Network returns one network p administers. Errors: forbidden, not_found.
func (s *Service) Network(ctx context.Context, p *authz.Principal, id string) (*Network, error) {
	n, err := s.store.Read().VPNNetworkByID(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errNetworkNotFound)
	}
	if err := allowAdmin(p, actNetworksRead, n.GroupID, errNetworkNotFound); err != nil {
		return nil, err
	}
	return n, nil
}
