package mesh

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// benchState returns a network state with n approved members, as Start
// would load it, and each member's stream when subscribe is set.
func benchState(tb testing.TB, n int, subscribe bool) (*netState, []*member, []*Stream) {
	tb.Helper()
	now := time.Now().UTC()
	net := &Network{ID: 1, GroupID: 1, NetID: "bench", AddressRange: netip.MustParsePrefix("100.64.0.0/10"),
		AddressRange6: netip.MustParsePrefix("fd00::/64"), DefaultListenPort: 51821, DefaultKeepalive: 20, Revision: 1,
		KeyUpdateAt: now, NodesModifiedAt: now, ModifiedAt: now, CreatedAt: now}
	st := newNetState(net, DefaultStreamBuffer)
	key, _ := wgtypes.GeneratePrivateKey()
	pub := key.PublicKey()
	members := make([]*member, n)
	for i := range n {
		a4, _ := st.pool4.take(int64(i + 1))
		a6, _ := st.pool6.take(int64(i + 1))
		pub[0], pub[1], pub[2] = byte(i), byte(i>>8), byte(i>>16)
		node := &Node{ID: int64(i + 1), NetworkID: 1, GroupID: 1, Network: "bench", MAC: fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff),
			Name: fmt.Sprintf("node-%d", i), PublicKey: pub.String(), Endpoint: fmt.Sprintf("198.51.%d.%d", i>>8&0xff, i&0xff),
			ListenPort: 51821, Address: a4, Address6: a6, PersistentKeepalive: 20, Interface: "nk-bench",
			KeyUpdateAt: now, CreatedAt: now, ModifiedAt: now, Revision: 1}
		st.putNode(node)
		members[i] = st.members[node.ID]
	}
	var streams []*Stream
	if subscribe {
		streams = make([]*Stream, n)
		for i, m := range members {
			streams[i] = st.attach(m, nil)
			streams[i].Full() // taken and released, as a connection does
		}
	}
	return st, members, streams
}

var benchSizes = []int{1_000, 10_000, 100_000}

// BenchmarkPeerView: one node's complete view, encoded (what GET .../peers
// and a stream's first message write): a copy of the cached entries.
func BenchmarkPeerView(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			st, members, _ := benchState(b, n, false)
			buf := make([]byte, 0, st.activeBytes+n+16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				st.mu.RLock()
				v := st.peersOf(members[i%n])
				st.mu.RUnlock()
				buf = v.AppendTo(buf[:0])
			}
			b.ReportMetric(float64(len(buf))/1e6, "MB/view")
		})
	}
}

// BenchmarkPeerViewAfterChange is BenchmarkPeerView when every view follows
// a change, so the shared snapshot is rebuilt each time.
func BenchmarkPeerViewAfterChange(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			st, members, _ := benchState(b, n, false)
			buf := make([]byte, 0, st.activeBytes+n+16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				st.snap.Store(nil)
				st.mu.RLock()
				v := st.peersOf(members[i%n])
				st.mu.RUnlock()
				buf = v.AppendTo(buf[:0])
			}
		})
	}
}

// BenchmarkApplyChange: one node changes (its endpoint, so its entry is
// re-encoded) in a network where every node is subscribed: the change is
// applied and its one-peer delta published to every stream (appended once
// to the network's log; the consumers' reading is not part of it).
func BenchmarkApplyChange(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			st, members, _ := benchState(b, n, true)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m := members[i%n]
				next := *m.node
				next.Endpoint = fmt.Sprintf("203.0.113.%d", i%250)
				next.Revision++
				st.mu.Lock()
				st.putNode(&next)
				st.mu.Unlock()
				st.log.signal()
			}
			if len(st.streams) != n {
				b.Fatalf("%d streams left of %d", len(st.streams), n)
			}
		})
	}
}

// BenchmarkNaiveRecompute is the baseline of notes/mesh.md: after a change,
// rebuild every node's full peer list (a list of lists of pointers to the
// shared node records: no copies, no encoding), as control planes that
// recompute for everyone do, in their cheapest form.
func BenchmarkNaiveRecompute(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, members, _ := benchState(b, n, false)
			nodes := make([]*Node, n)
			for i, m := range members {
				nodes[i] = m.node
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				all := make([][]*Node, n)
				for i, self := range nodes {
					peers := make([]*Node, 0, n-1)
					for _, p := range nodes {
						if p != self {
							peers = append(peers, p)
						}
					}
					all[i] = peers
				}
				_ = all
			}
		})
	}
}
