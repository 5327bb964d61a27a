package gateway

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// RuleInput is an access rule as a caller gives it. On create Name,
// NetworkID and at least one of UserIDs and GroupIDs are required;
// Destination defaults to the network's CIDR, Protocol to any, Ports to
// every port, Enabled to true. On update nil fields keep their value.
type RuleInput struct {
	Name        *string
	Description *string
	NetworkID   *string
	Destination *string
	Protocol    *string
	Ports       *string
	UserIDs     *[]int64
	GroupIDs    *[]int64
	Enabled     *bool
}

func ruleTarget(id string) string { return "access-rule:" + id }

// within reports whether inner lies entirely inside outer.
func within(inner, outer netip.Prefix) bool {
	return inner.Bits() >= outer.Bits() && outer.Contains(inner.Addr())
}

// apply validates in over r, resolving references through tx, and returns
// the names of the fields that changed. r.GroupID must be set.
func (in RuleInput) apply(ctx context.Context, tx Tx, r *Rule) ([]string, error) {
	changed, err := applyLabel(in.Name, in.Description, &r.Name, &r.Description)
	if err != nil {
		return nil, err
	}
	set := func(field string, differs bool, assign func()) {
		if differs {
			assign()
			changed = append(changed, field)
		}
	}
	if in.NetworkID != nil {
		set("network_id", *in.NetworkID != r.NetworkID, func() { r.NetworkID = *in.NetworkID })
	}
	n, err := tx.VPNNetworkByID(ctx, r.NetworkID)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	if err != nil || n.GroupID != r.GroupID {
		return nil, fault.Errorf(fault.NotFound, "network %q not found", r.NetworkID).WithDetails(map[string]any{"field": "network_id"})
	}
	if in.Destination != nil && strings.TrimSpace(*in.Destination) != "" {
		d, err := parsePrefix("destination", *in.Destination)
		if err != nil {
			return nil, err
		}
		set("destination", d != r.Destination, func() { r.Destination = d })
	} else if !r.Destination.IsValid() || (in.NetworkID != nil && !within(r.Destination, n.CIDR)) {
		// No destination yet, or a move to a network the old one does not
		// fit: the rule covers the whole network.
		set("destination", n.CIDR != r.Destination, func() { r.Destination = n.CIDR })
	}
	if !within(r.Destination, n.CIDR) {
		return nil, invalidField("destination", "destination "+r.Destination.String()+" is outside the network's "+n.CIDR.String())
	}
	if in.Protocol != nil {
		p, err := parseRuleProtocol(*in.Protocol)
		if err != nil {
			return nil, err
		}
		set("protocol", p != r.Protocol, func() { r.Protocol = p })
	}
	if in.Ports != nil {
		ports, err := ParsePorts(*in.Ports)
		if err != nil {
			return nil, err
		}
		set("ports", !slices.Equal(ports, r.Ports), func() { r.Ports = ports })
	}
	if len(r.Ports) > 0 && r.Protocol != RuleTCP && r.Protocol != RuleUDP {
		return nil, invalidField("ports", "ports apply only to protocol tcp or udp")
	}
	if in.UserIDs != nil {
		ids, err := resolveUsers(ctx, tx, r.GroupID, *in.UserIDs)
		if err != nil {
			return nil, err
		}
		set("user_ids", !slices.Equal(ids, r.UserIDs), func() { r.UserIDs = ids })
	}
	if in.GroupIDs != nil {
		ids := slices.Compact(slices.Sorted(slices.Values(*in.GroupIDs)))
		for _, id := range ids {
			if id != r.GroupID {
				return nil, fault.Errorf(fault.NotFound, "group %d not found", id).WithDetails(map[string]any{"field": "group_ids"})
			}
		}
		set("group_ids", !slices.Equal(ids, r.GroupIDs), func() { r.GroupIDs = ids })
	}
	if len(r.UserIDs) == 0 && len(r.GroupIDs) == 0 {
		return nil, invalidField("user_ids", "a rule must name at least one user (user_ids) or group (group_ids)")
	}
	if in.Enabled != nil {
		set("enabled", *in.Enabled != r.Enabled, func() { r.Enabled = *in.Enabled })
	}
	return changed, nil
}

// resolveUsers checks that every id is a user of groupID and returns them
// sorted without duplicates; another group's user is not found.
func resolveUsers(ctx context.Context, tx Tx, groupID int64, ids []int64) ([]int64, error) {
	out := slices.Compact(slices.Sorted(slices.Values(ids)))
	for _, id := range out {
		u, err := tx.UserByID(ctx, id)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
		if err != nil || u.GroupID != groupID {
			return nil, fault.Errorf(fault.NotFound, "user %d not found", id).WithDetails(map[string]any{"field": "user_ids"})
		}
	}
	if out == nil {
		out = []int64{}
	}
	return out, nil
}

// ruleGroup is the group a new rule belongs to: its network's, which p must
// administer. Errors: invalid, not_found.
func ruleGroup(ctx context.Context, tx Tx, p *authz.Principal, in RuleInput) (int64, error) {
	if in.NetworkID == nil || *in.NetworkID == "" {
		return 0, invalidField("network_id", "network_id is required")
	}
	n, err := tx.VPNNetworkByID(ctx, *in.NetworkID)
	if err != nil {
		return 0, notFoundAs(err, fault.Errorf(fault.NotFound, "network %q not found", *in.NetworkID).WithDetails(map[string]any{"field": "network_id"}))
	}
	notFound := fault.Errorf(fault.NotFound, "network %q not found", *in.NetworkID).WithDetails(map[string]any{"field": "network_id"})
	if err := allowGroup(p, actRulesWrite, n.GroupID, notFound); err != nil {
		return 0, err
	}
	return n.GroupID, nil
}

// CreateRule creates an access rule in its network's group.
// Errors: invalid, forbidden, not_found (network, users, groups).
func (s *Service) CreateRule(ctx context.Context, p *authz.Principal, src audit.Source, in RuleInput) (*Rule, error) {
	if err := allowAdminAny(p, actRulesWrite); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalidField("name", "name is required")
	}
	now := s.stamp()
	r := &Rule{ID: newID("rule-"), Protocol: RuleAny, UserIDs: []int64{}, GroupIDs: []int64{}, Enabled: true, CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if r.GroupID, err = ruleGroup(ctx, tx, p, in); err != nil {
			return err
		}
		if _, err := in.apply(ctx, tx, r); err != nil {
			return err
		}
		if err := tx.InsertAccessRule(ctx, r); err != nil {
			return err
		}
		if err := s.bumpForNetworks(ctx, tx, r.NetworkID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, r.GroupID, "access-rule.create", ruleTarget(r.ID), ruleDetails(r))
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "rule.created", r.GroupID, r.ID)
	return r, nil
}

func ruleDetails(r *Rule) map[string]any {
	return map[string]any{"name": r.Name, "network_id": r.NetworkID, "destination": r.Destination.String(),
		"protocol": r.Protocol, "ports": FormatPorts(r.Ports), "user_ids": r.UserIDs, "group_ids": r.GroupIDs, "enabled": r.Enabled}
}

// bumpForNetworks raises the config version of the gateways behind the
// networks.
func (s *Service) bumpForNetworks(ctx context.Context, tx Tx, networkIDs ...string) error {
	var ids []string
	for _, id := range networkIDs {
		n, err := tx.VPNNetworkByID(ctx, id)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		ids = append(ids, n.GatewayIDs...)
	}
	return tx.BumpGatewayVersions(ctx, ids, s.stamp())
}

// Rules lists the access rules p administers, by name. Errors: forbidden.
func (s *Service) Rules(ctx context.Context, p *authz.Principal) ([]*Rule, error) {
	if err := allowAdminAny(p, actRulesRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListAccessRules(ctx, p.GroupScope())
}

// UpdateRule changes an access rule. Errors: invalid, forbidden, not_found.
func (s *Service) UpdateRule(ctx context.Context, p *authz.Principal, src audit.Source, id string, in RuleInput) (*Rule, error) {
	var (
		r         *Rule
		unchanged bool
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.AccessRuleByID(ctx, id)
		if err != nil {
			return notFoundAs(err, errRuleNotFound)
		}
		if err := allowAdmin(p, actRulesWrite, cur.GroupID, errRuleNotFound); err != nil {
			return err
		}
		next := *cur
		changed, err := in.apply(ctx, tx, &next)
		if err != nil || len(changed) == 0 {
			r, unchanged = cur, true
			return err
		}
		next.UpdatedAt = s.stamp()
		if err := tx.UpdateAccessRule(ctx, &next); err != nil {
			return err
		}
		if err := s.bumpForNetworks(ctx, tx, cur.NetworkID, next.NetworkID); err != nil {
			return err
		}
		r = &next
		return audit.Record(ctx, tx, src, r.GroupID, "access-rule.update", ruleTarget(r.ID), map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	if !unchanged {
		s.publish(ctx, "rule.updated", r.GroupID, r.ID)
	}
	return r, nil
}

// DeleteRule deletes an access rule. Errors: forbidden, not_found.
func (s *Service) DeleteRule(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	var r *Rule
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.AccessRuleByID(ctx, id); err != nil {
			return notFoundAs(err, errRuleNotFound)
		}
		if err := allowAdmin(p, actRulesWrite, r.GroupID, errRuleNotFound); err != nil {
			return err
		}
		if err := tx.DeleteAccessRule(ctx, id); err != nil {
			return notFoundAs(err, errRuleNotFound)
		}
		if err := s.bumpForNetworks(ctx, tx, r.NetworkID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, r.GroupID, "access-rule.delete", ruleTarget(id), map[string]any{"name": r.Name})
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "rule.deleted", r.GroupID, id)
	return nil
}

// Rule returns one access rule p administers. Errors: forbidden, not_found.
func (s *Service) Rule(ctx context.Context, p *authz.Principal, id string) (*Rule, error) {
	r, err := s.store.Read().AccessRuleByID(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errRuleNotFound)
	}
	if err := allowAdmin(p, actRulesRead, r.GroupID, errRuleNotFound); err != nil {
		return nil, err
	}
	return r, nil
}
