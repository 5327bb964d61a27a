package mesh

import (
	"cmp"
	"context"
	"slices"

	"netkeep/internal/authz"
)

// NodePage is one page of a network's nodes, pending ones first (they wait
// for someone), then by ID, with the counts of the whole network.
type NodePage struct {
	Network *Network
	Nodes   []*Node
	Total   int
	Pending int
}

// ListNodePage returns the nodes of netid from offset, at most limit of
// them, ordered pending first, then by ID. Only the page's nodes are
// copied out, so a page of a network of 10,000 nodes costs a sort of
// pointers, not 10,000 copies.
// Errors: unauthorized, forbidden, not_found (netid).
func (s *Service) ListNodePage(ctx context.Context, p *authz.Principal, netid string, offset, limit int) (*NodePage, error) {
	if err := authz.Allow(p, actNodesRead, authz.Any); err != nil {
		return nil, err
	}
	st := s.state(netid)
	if st == nil {
		return nil, errNetworkNotFound
	}
	if err := allowGroup(p, actNodesRead, st.gid); err != nil {
		return nil, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	ms := make([]*member, 0, len(st.members))
	pending := 0
	for _, m := range st.members {
		ms = append(ms, m)
		if m.node.Pending {
			pending++
		}
	}
	slices.SortFunc(ms, func(a, b *member) int {
		if a.node.Pending != b.node.Pending {
			if a.node.Pending {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.node.ID, b.node.ID)
	})
	offset = min(max(offset, 0), len(ms))
	page := ms[offset:min(len(ms), offset+max(limit, 0))]
	out := &NodePage{Network: st.network(), Nodes: make([]*Node, len(page)), Total: len(ms), Pending: pending}
	for i, m := range page {
		out.Nodes[i] = st.nodeView(m)
	}
	return out, nil
}
