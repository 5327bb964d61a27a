package mesh_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/mesh"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/meshwire"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// reconnect opens n's stream again for agent a, offering a's digest, and
// returns the first message the server chose (decoded) and its size.
func reconnect(tb testing.TB, e *env, svc *mesh.Service, n *mesh.Node, a *meshsim.Agent) (*meshwire.Message, int) {
	tb.Helper()
	held, ok := a.Digest()
	if !ok {
		held = nil
	}
	s, err := svc.SubscribeFrom(context.Background(), e.nodePrincipal(tb, svc, n), n.Network, n.MAC, held)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	raw := s.Full().AppendTo(nil)
	if err := a.Apply(raw); err != nil {
		tb.Fatalf("applying the first message: %v", err)
	}
	m := new(meshwire.Message)
	if err := json.Unmarshal(raw, m); err != nil {
		tb.Fatal(err)
	}
	return m, len(raw)
}

// fresh is what a node's view is now: a new agent's full view.
func fresh(tb testing.TB, e *env, svc *mesh.Service, n *mesh.Node) map[int64]meshwire.Peer {
	tb.Helper()
	a := meshsim.New()
	if m, _ := reconnect(tb, e, svc, n, a); m.Type != meshwire.MsgFull {
		tb.Fatalf("a new agent got %q", m.Type)
	}
	return a.Peers()
}

// TestReconnectSync: an agent reconnecting with the digest of its view gets
// only the buckets that changed, from the same service or from a new one
// over the same store (a restarted server), and ends with exactly the view
// a new agent gets.
func TestReconnectSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var clock atomic.Int64 // Unix µs; joins happen an hour before the changes
		clock.Store(time.Now().Add(-time.Hour).UnixMicro())
		now := mesh.WithClock(func() time.Time { return time.UnixMicro(clock.Load()) })
		e := newEnv(t, db, now)
		ctx := context.Background()
		e.network(t, e.adminA, "sync", mesh.NetworkFields{})
		nodes := make([]*mesh.Node, 40)
		for i := range nodes {
			nodes[i] = e.join(t, e.svc, "sync", i+1)
		}
		viewer := nodes[0]
		a := meshsim.New()
		if m, _ := reconnect(t, e, e.svc, viewer, a); m.Type != meshwire.MsgFull || a.Len() != len(nodes)-1 {
			t.Fatalf("first connection: %q with %d peers", m.Type, a.Len())
		}
		_, fullSize := reconnect(t, e, e.svc, viewer, meshsim.New())
		clock.Store(time.Now().UnixMicro())

		endpoint := "203.0.113.9"
		cases := []struct {
			name    string
			change  func(t *testing.T) []int64 // returns the nodes whose buckets must be resent
			resent  int                        // peers resent
			restart bool
		}{
			{"nothing changed", func(t *testing.T) []int64 { return nil }, 0, false},
			{"nothing changed, server restarted", func(t *testing.T) []int64 { return nil }, 0, true},
			{"its own record changed", func(t *testing.T) []int64 {
				if _, err := e.svc.UpdateNode(ctx, master, src, "sync", viewer.MAC, mesh.NodePatch{Endpoint: &endpoint}); err != nil {
					t.Fatal(err)
				}
				return nil
			}, 0, false},
			{"a peer changed, one left, one joined; server restarted", func(t *testing.T) []int64 {
				if _, err := e.svc.UpdateNode(ctx, master, src, "sync", nodes[5].MAC, mesh.NodePatch{Endpoint: &endpoint}); err != nil {
					t.Fatal(err)
				}
				if err := e.svc.DeleteNode(ctx, master, src, "sync", nodes[9].MAC); err != nil {
					t.Fatal(err)
				}
				n := e.join(t, e.svc, "sync", 100)
				return []int64{nodes[5].ID, nodes[9].ID, n.ID}
			}, 2, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				changed := tc.change(t)
				svc := e.svc
				if tc.restart {
					svc = e.start(t, nil, now)
				}
				m, size := reconnect(t, e, svc, viewer, a)
				if m.Type != meshwire.MsgSync {
					t.Fatalf("got %q, want a sync", m.Type)
				}
				var want, got []int
				for _, id := range changed {
					want = append(want, meshwire.BucketOf(id))
				}
				slices.Sort(want)
				want = slices.Compact(want)
				for _, b := range m.Buckets {
					got = append(got, b.Bucket)
				}
				if !slices.Equal(got, want) || len(m.Peers) != tc.resent {
					t.Fatalf("buckets %v with %d peers, want %v with %d", got, len(m.Peers), want, tc.resent)
				}
				if len(changed) == 0 && (len(m.Peers) != 0 || size > fullSize/4) {
					t.Fatalf("nothing to resend, but got %d peers in %d bytes (full view: %d)", len(m.Peers), size, fullSize)
				}
				if m.Self == nil || m.Self.ID != viewer.ID || m.Network == nil {
					t.Fatalf("sync without self or network: %+v", m)
				}
				if got, want := a.Peers(), fresh(t, e, svc, viewer); !maps.EqualFunc(got, want, peerEqual) {
					t.Fatalf("after the sync the agent holds %d peers, a new agent %d", len(got), len(want))
				}
			})
		}

		t.Run("a digest of another view gets the full view", func(t *testing.T) {
			other := new(meshwire.ViewDigest)
			for b := range other.Sums {
				other.Sums[b] = uint64(b) * 0x9e3779b97f4a7c15
			}
			s, err := e.svc.SubscribeFrom(ctx, e.nodePrincipal(t, e.svc, viewer), "sync", viewer.MAC, other)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v := s.Full(); v.IsSync() || v.Peers() != len(nodes)-1 {
				t.Fatalf("sync %v with %d peers", v.IsSync(), v.Peers())
			}
		})
	})
}

// TestReconnectSyncPending: a pending node's digest is not used (it holds no
// peers), so it gets the full (empty) view.
func TestReconnectSyncPending(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.network(t, e.adminA, "pend", mesh.NetworkFields{RequireApproval: ptr(true)})
		e.join(t, e.svc, "pend", 1)
		key := e.key(t, "pend", 1)
		n, _, err := e.svc.Join(context.Background(), nil, src, "pend", mesh.JoinFields{AccessKey: key, MAC: mac(2), PublicKey: pubkey(t)})
		if err != nil || !n.Pending {
			t.Fatalf("join: %+v %v", n, err)
		}
		a := meshsim.New()
		reconnect(t, e, e.svc, n, a)
		if _, ok := a.Digest(); ok {
			t.Fatal("a pending node's view offers a digest")
		}
		s, err := e.svc.SubscribeFrom(context.Background(), e.nodePrincipal(t, e.svc, n), "pend", n.MAC, new(meshwire.ViewDigest))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v := s.Full(); v.IsSync() || v.Peers() != 0 {
			t.Fatalf("pending node: sync %v, %d peers", v.IsSync(), v.Peers())
		}
	})
}

func peerEqual(a, b meshwire.Peer) bool { return meshwire.DigestOf(a) == meshwire.DigestOf(b) }
