package wg

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/meshwire"
)

// Spec is the complete desired configuration of a node's interface,
// derived from its view and its private key. Applying a Spec is idempotent.
type Spec struct {
	PrivateKey wgtypes.Key
	ListenPort int
	// Addresses are the node's addresses with the network's prefix length,
	// so the mesh range itself is a connected route of the interface.
	Addresses []netip.Prefix
	Peers     []PeerSpec
	// Routes are the peers' AllowedIPs outside Addresses (egress ranges):
	// each is routed into the interface.
	Routes []netip.Prefix
	// Forward turns on IP forwarding: this node is an egress gateway.
	Forward bool
}

// PeerSpec is one WireGuard peer.
type PeerSpec struct {
	PublicKey  wgtypes.Key
	Endpoint   *net.UDPAddr // nil: unknown, the peer initiates (or roams)
	AllowedIPs []netip.Prefix
	Keepalive  time.Duration
}

// BuildSpec derives the interface configuration from a view. A pending
// node gets its address but no peers. Peer entries a node cannot use (a
// malformed key or prefix) are left out and reported in skipped.
func BuildSpec(key wgtypes.Key, v *meshwire.View) (s Spec, skipped []error) {
	self, network := v.Self(), v.Network()
	s.PrivateKey, s.ListenPort = key, self.ListenPort
	s.Forward = self.IsEgressGateway
	for _, a := range []struct{ addr, rng string }{{self.Address, network.AddressRange}, {self.Address6, network.AddressRange6}} {
		if p, ok := interfacePrefix(a.addr, a.rng); ok {
			s.Addresses = append(s.Addresses, p)
		}
	}
	if self.IsPending {
		return s, nil
	}
	keepalive := time.Duration(self.PersistentKeepalive) * time.Second
	routes := map[netip.Prefix]bool{}
	for _, p := range v.Peers() {
		ps, err := peerSpec(p, keepalive)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		s.Peers = append(s.Peers, ps)
		for _, a := range ps.AllowedIPs {
			if !coveredBy(a, s.Addresses) {
				routes[a] = true
			}
		}
	}
	for r := range routes {
		s.Routes = append(s.Routes, r)
	}
	slices.SortFunc(s.Routes, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return s, skipped
}

func peerSpec(p meshwire.Peer, keepalive time.Duration) (PeerSpec, error) {
	k, err := wgtypes.ParseKey(p.PublicKey)
	if err != nil {
		return PeerSpec{}, fmt.Errorf("peer %d (%s): public key: %w", p.ID, p.Name, err)
	}
	ps := PeerSpec{PublicKey: k, Keepalive: keepalive}
	for _, s := range p.AllowedIPs {
		a, err := netip.ParsePrefix(s)
		if err != nil {
			return PeerSpec{}, fmt.Errorf("peer %d (%s): allowed IP %q: %w", p.ID, p.Name, s, err)
		}
		ps.AllowedIPs = append(ps.AllowedIPs, a.Masked())
	}
	if p.Endpoint != "" && p.ListenPort > 0 {
		ip, err := netip.ParseAddr(p.Endpoint)
		if err != nil {
			return PeerSpec{}, fmt.Errorf("peer %d (%s): endpoint %q: %w", p.ID, p.Name, p.Endpoint, err)
		}
		ps.Endpoint = net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p.ListenPort)))
	}
	return ps, nil
}

// interfacePrefix is addr with the bits of the network range rng.
func interfacePrefix(addr, rng string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.Prefix{}, false
	}
	bits := a.BitLen()
	if r, err := netip.ParsePrefix(rng); err == nil && r.Contains(a) {
		bits = r.Bits()
	}
	return netip.PrefixFrom(a, bits), true
}

// coveredBy reports whether p lies inside one of the interface's own
// prefixes, whose connected routes already reach it.
func coveredBy(p netip.Prefix, own []netip.Prefix) bool {
	for _, o := range own {
		if o.Bits() <= p.Bits() && o.Masked().Contains(p.Addr()) {
			return true
		}
	}
	return false
}
