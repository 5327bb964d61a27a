package gateway

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestTunnelAddrs: spokes get distinct addresses in the upper half of the
// hub's subnet, never its broadcast address; a spoke keeps its address
// when another joins; no room or IPv6 gives none.
func TestTunnelAddrs(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("gw-%016x", i*7919)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		subnet string
		ids    []string
		placed int
	}{
		{"one", "10.8.0.0/24", ids(1), 1},
		{"many", "10.8.0.0/24", ids(100), 100},
		{"the upper half holds 127", "10.8.0.0/24", ids(200), 127},
		{"a /29 holds 3", "10.9.0.0/29", ids(5), 3},
		{"a /30 has no room", "10.9.0.0/30", ids(2), 0},
		{"ipv6", "fd00::/64", ids(2), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			subnet := netip.MustParsePrefix(c.subnet)
			got := tunnelAddrs(subnet, c.ids)
			if len(got) != c.placed {
				t.Fatalf("placed %d, want %d", len(got), c.placed)
			}
			seen := map[netip.Addr]bool{}
			lower := netip.PrefixFrom(subnet.Masked().Addr(), subnet.Bits()+1)
			for id, a := range got {
				if seen[a] || !subnet.Contains(a) || lower.Contains(a) || broadcast(subnet) == a {
					t.Fatalf("%s got %s: taken twice, outside %s, in its lower half or its broadcast address", id, a, subnet)
				}
				seen[a] = true
			}
		})
	}
	// Stability: the first spokes keep their addresses when one more joins
	// (their hashes do not collide with the newcomer's here).
	before := tunnelAddrs(netip.MustParsePrefix("10.8.0.0/24"), ids(3))
	after := tunnelAddrs(netip.MustParsePrefix("10.8.0.0/24"), append(ids(3), "gw-ffffffffffffffff"))
	for id, a := range before {
		if after[id] != a {
			t.Fatalf("%s moved from %s to %s", id, a, after[id])
		}
	}
}

// broadcast is an IPv4 subnet's last address.
func broadcast(p netip.Prefix) netip.Addr {
	if !p.Addr().Is4() {
		return netip.Addr{}
	}
	a := p.Masked().Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(a)
}
