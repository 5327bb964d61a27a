package mesh

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"netkeep/internal/authz"
	"netkeep/internal/meshwire"
)

// Peers returns a node's peer view: every other approved node of its
// network, as meshwire.Peer entries; empty while the node is pending. A node
// credential may read only its own view. No entry is encoded or copied
// here: entries are cached per node and shared (see PeerList).
// Errors: as GetNode.
func (s *Service) Peers(ctx context.Context, p *authz.Principal, netid, mac string) (PeerList, error) {
	st, m, err := s.lookup(p, actNodesRead, netid, mac)
	if err != nil {
		return PeerList{}, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.members[m.node.ID] != m {
		return PeerList{}, errNodeNotFound(m.node.MAC)
	}
	return st.peersOf(m), nil
}

// PrivateKeyPlaceholder stands in the wg-quick configuration where the
// node's private key belongs: netkeep never has it. The agent (or the
// person installing the file) replaces it with the key generated on the host.
const PrivateKeyPlaceholder = "<PRIVATE KEY OF THIS NODE: netkeep never has it>"

// Config returns a node's wg-quick configuration. Its [Interface] has
// PrivateKeyPlaceholder instead of a key. Errors: as Peers.
func (s *Service) Config(ctx context.Context, p *authz.Principal, netid, mac string) ([]byte, error) {
	st, m, err := s.lookup(p, actNodesRead, netid, mac)
	if err != nil {
		return nil, err
	}
	st.mu.RLock()
	self, net, peers := m.node, st.network(), st.peerNodesOf(m)
	st.mu.RUnlock()
	return renderConfig(self, net, peers), nil
}

func renderConfig(self *Node, net *Network, peers []*Node) []byte {
	var b bytes.Buffer
	b.Grow(256 + 160*len(peers))
	fmt.Fprintf(&b, "# netkeep: WireGuard configuration of node %s (%s) in network %s.\n", self.Name, self.MAC, net.NetID)
	b.WriteString("# Replace the PrivateKey value with this node's private key (wg genkey on the\n")
	b.WriteString("# host; netkeep never has it), or let `netkeep agent` manage the interface.\n")
	if self.Pending {
		b.WriteString("# This node is pending approval: it has no peers yet.\n")
	}
	b.WriteString("[Interface]\nPrivateKey = ")
	b.WriteString(PrivateKeyPlaceholder)
	b.WriteString("\nAddress = ")
	addrs := []string{netip.PrefixFrom(self.Address, net.AddressRange.Bits()).String()}
	if self.Address6.IsValid() && net.AddressRange6.IsValid() {
		addrs = append(addrs, netip.PrefixFrom(self.Address6, net.AddressRange6.Bits()).String())
	}
	b.WriteString(strings.Join(addrs, ", "))
	b.WriteString("\nListenPort = ")
	b.WriteString(strconv.Itoa(self.ListenPort))
	b.WriteString("\n")
	for _, p := range peers {
		fmt.Fprintf(&b, "\n[Peer]\n# %s (%s)\nPublicKey = %s\n", p.Name, p.MAC, p.PublicKey)
		if a, err := netip.ParseAddr(p.Endpoint); err == nil {
			b.WriteString("Endpoint = " + netip.AddrPortFrom(a, uint16(p.ListenPort)).String() + "\n")
		}
		b.WriteString("AllowedIPs = " + strings.Join(prefixStrings(p.AllowedIPs()), ", ") + "\n")
		if self.PersistentKeepalive > 0 {
			b.WriteString("PersistentKeepalive = " + strconv.Itoa(self.PersistentKeepalive) + "\n")
		}
	}
	return b.Bytes()
}

// Subscribe opens a node's push stream: a full view, then the changes that
// concern it (see the package documentation). Opening it counts as a
// check-in. A node credential may subscribe only itself; administrators with
// nodes:read may watch any node of their group. Close the stream when done.
// Errors: as GetNode; unavailable after Close.
func (s *Service) Subscribe(ctx context.Context, p *authz.Principal, netid, mac string) (*Stream, error) {
	return s.SubscribeFrom(ctx, p, netid, mac, nil)
}

// SubscribeFrom is Subscribe for a node that already holds a view, whose
// digest is held (nil: none): its first message is a sync of what differs
// (meshwire.MsgSync) rather than its full view, when the node is a peer and
// less than half of the buckets differ.
func (s *Service) SubscribeFrom(ctx context.Context, p *authz.Principal, netid, mac string, held *meshwire.ViewDigest) (*Stream, error) {
	st, m, err := s.lookup(p, actNodesRead, netid, mac)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s.mu.RLock() // under st.mu, so Close cannot end st's streams in between
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, errUnavailable
	}
	if st.members[m.node.ID] != m {
		return nil, errNodeNotFound(m.node.MAC)
	}
	if isNode(p) {
		s.seen(m)
	}
	return st.attach(m, held), nil
}
