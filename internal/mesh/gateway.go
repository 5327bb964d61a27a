package mesh

import (
	"context"
	"slices"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// change runs one administrative change of a node: edit gets the node as
// stored, locked, and changes it in place, returning false when nothing
// changes. The change is stored, audited as action, applied and published.
func (s *Service) change(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac, action string,
	edit func(n *Node) (bool, error), details func(n *Node) map[string]any) (*Node, error) {
	if isNode(p) {
		return nil, fault.New(fault.Forbidden, "a node credential cannot do this; use an administrator's credential")
	}
	st, m, err := s.lookup(p, actNodesWrite, netid, mac)
	if err != nil {
		return nil, err
	}
	var n *Node
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.NodeForUpdate(ctx, st.id, m.node.MAC)
		if err != nil {
			return notFoundAs(err, errNodeNotFound(m.node.MAC))
		}
		next := *cur
		ok, err := edit(&next)
		if err != nil || !ok {
			return err
		}
		next.ModifiedAt = s.stamp()
		if err := tx.UpdateNode(ctx, &next); err != nil {
			return err
		}
		if err := tx.TouchNetworkNodes(ctx, st.id, next.ModifiedAt); err != nil {
			return err
		}
		n = &next
		return audit.Record(ctx, tx, src, n.GroupID, action, nodeTarget(n), details(n))
	})
	if err != nil {
		return nil, err
	}
	if n != nil {
		s.applyNode(n)
		s.publish(ctx, TopicNode, "updated", n.GroupID, n.ID, n)
	}
	if v := s.nodeView(st, m.node.ID); v != nil {
		return v, nil
	}
	return nil, errNodeNotFound(m.node.MAC)
}

// CreateGateway makes a node an egress gateway for ranges: every peer routes
// them to it (they join its AllowedIPs). The ranges must not overlap the
// network's own. iface names the node's interface towards them (for its
// NAT rules). Errors: as UpdateNode; invalid ranges.
func (s *Service) CreateGateway(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string, ranges []string, iface string) (*Node, error) {
	parsed, err := ParseEgressRanges(ranges)
	if err != nil {
		return nil, err
	}
	iface = strings.TrimSpace(iface)
	if iface != "" {
		if err := validateInterface("interface", iface); err != nil {
			return nil, err
		}
	}
	if st := s.state(netid); st != nil {
		st.mu.RLock()
		net := st.network()
		st.mu.RUnlock()
		for _, r := range parsed {
			if overlaps(r, net.AddressRange) || overlaps(r, net.AddressRange6) {
				if r.Bits() != 0 { // a default route is fine: peers' own routes are more specific
					return nil, invalidField("ranges", "range "+r.String()+" overlaps the network's own addresses")
				}
			}
		}
	}
	return s.change(ctx, p, src, netid, mac, "node.gateway.create", func(n *Node) (bool, error) {
		if slices.Equal(n.EgressRanges, parsed) && n.EgressInterface == iface {
			return false, nil
		}
		n.EgressRanges, n.EgressInterface = parsed, iface
		return true, nil
	}, func(n *Node) map[string]any {
		return map[string]any{"ranges": prefixStrings(n.EgressRanges), "interface": n.EgressInterface}
	})
}

// DeleteGateway stops a node being an egress gateway. Errors: as UpdateNode.
func (s *Service) DeleteGateway(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) (*Node, error) {
	return s.change(ctx, p, src, netid, mac, "node.gateway.delete", func(n *Node) (bool, error) {
		if !n.IsEgressGateway() {
			return false, nil
		}
		n.EgressRanges, n.EgressInterface = nil, ""
		return true, nil
	}, func(*Node) map[string]any { return nil })
}

// Approve admits a pending node: it becomes every active node's peer and
// gets its own view. Approving an approved node changes nothing.
// Errors: as UpdateNode.
func (s *Service) Approve(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) (*Node, error) {
	return s.change(ctx, p, src, netid, mac, "node.approve", func(n *Node) (bool, error) {
		if !n.Pending {
			return false, nil
		}
		n.Pending = false
		return true, nil
	}, func(*Node) map[string]any { return nil })
}
