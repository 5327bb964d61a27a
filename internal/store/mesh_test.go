package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var _ mesh.Tx = (*store.Tx)(nil)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)

func meshNetwork(tb testing.TB, db *store.DB, groupID int64, netid, cidr string) *mesh.Network {
	tb.Helper()
	n := &mesh.Network{
		GroupID: groupID, NetID: netid, DisplayName: netid, AddressRange: netip.MustParsePrefix(cidr),
		DefaultListenPort: 51821, DefaultKeepalive: 20, DefaultInterface: "nk-" + netid, CheckInInterval: 30,
		KeyUpdateAt: t0, NodesModifiedAt: t0, ModifiedAt: t0, CreatedAt: t0, Revision: 1,
	}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateNetwork(context.Background(), n) }); err != nil {
		tb.Fatal(err)
	}
	return n
}

func meshNode(net *mesh.Network, i int) *mesh.Node {
	return &mesh.Node{
		NetworkID: net.ID, MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff), Name: fmt.Sprint("n", i),
		PublicKey: fmt.Sprintf("%042dA=", i), ListenPort: 51821, Address: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		PersistentKeepalive: 20, Interface: "nk0", KeyUpdateAt: t0, CreatedAt: t0, ModifiedAt: t0, Revision: 1,
	}
}

func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	fe := fault.As(err)
	if fe == nil || fe.Code != fault.Conflict || fe.Details["field"] != field {
		tb.Fatalf("err = %v, want a conflict on %s", err, field)
	}
}

func TestMeshNetworks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g1, g2 := mustGroup(t, db, "g1"), mustGroup(t, db, "g2")
		a := meshNetwork(t, db, g1.ID, "alpha", "10.1.0.0/24")
		meshNetwork(t, db, g2.ID, "beta", "10.2.0.0/24")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			dup := *a
			return tx.CreateNetwork(ctx, &dup)
		})
		wantField(t, err, "netid")

		got, err := db.Read().NetworkByNetID(ctx, "alpha")
		if err != nil || got.ID != a.ID || got.AddressRange != a.AddressRange || !got.CreatedAt.Equal(t0) || got.Revision != 1 {
			t.Fatalf("NetworkByNetID = %+v, %v", got, err)
		}
		if _, err := db.Read().NetworkByNetID(ctx, "nope"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing: %v", err)
		}
		for gid, want := range map[int64]int{0: 2, g1.ID: 1, g2.ID: 1} {
			if l, err := db.Read().ListNetworks(ctx, gid); err != nil || len(l) != want {
				t.Fatalf("ListNetworks(%d) = %d, %v", gid, len(l), err)
			}
		}
		got.AddressRange6 = netip.MustParsePrefix("fd00::/64")
		got.AllowManualSignUp = true
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateNetwork(ctx, got) }); err != nil || got.Revision != 2 {
			t.Fatalf("UpdateNetwork: rev %d, %v", got.Revision, err)
		}
		again, _ := db.Read().NetworkByNetID(ctx, "alpha")
		if again.AddressRange6 != got.AddressRange6 || !again.AllowManualSignUp || again.Revision != 2 {
			t.Fatalf("after update: %+v", again)
		}
		later := t0.Add(time.Hour)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchNetworkNodes(ctx, a.ID, later) }); err != nil {
			t.Fatal(err)
		}
		if again, _ = db.Read().NetworkByNetID(ctx, "alpha"); !again.NodesModifiedAt.Equal(later) || again.Revision != 2 {
			t.Fatalf("TouchNetworkNodes: %v rev %d", again.NodesModifiedAt, again.Revision)
		}

		// A network with nodes cannot be deleted; its keys go with it.
		n := meshNode(a, 1)
		mustDo(t, db, func(tx *store.Tx) error { return tx.CreateNode(ctx, n, mesh.NodeSecrets{}) })
		mustDo(t, db, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, accessKey(a, "k", "v", 1)) })
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteNetwork(ctx, a.ID) })
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("deleting a network with nodes: %v", err)
		}
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteNode(ctx, n.ID) })
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteNetwork(ctx, a.ID) })
		if keys, err := db.Read().ListAccessKeys(ctx, a.ID); err != nil || len(keys) != 0 {
			t.Fatalf("keys after network deletion: %d, %v", len(keys), err)
		}
	})
}

func mustDo(tb testing.TB, db *store.DB, fn func(tx *store.Tx) error) {
	tb.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		tb.Fatal(err)
	}
}

func accessKey(n *mesh.Network, name, value string, uses int) *mesh.SealedAccessKey {
	return &mesh.SealedAccessKey{
		AccessKey: mesh.AccessKey{NetworkID: n.ID, Name: name, Uses: uses, CreatedBy: "test", CreatedAt: t0},
		Hash:      sha256.Sum256([]byte(value)), Sealed: []byte("sealed " + value),
	}
}

func TestMeshAccessKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		net := meshNetwork(t, db, mustGroup(t, db, "g").ID, "keys", "10.3.0.0/24")
		k := accessKey(net, "ten", "value-ten", 10)
		mustDo(t, db, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, k) })
		wantField(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, accessKey(net, "ten", "other", 1)) }), "name")
		wantField(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, accessKey(net, "eleven", "value-ten", 1)) }), "value")
		past := t0.Add(-time.Hour)
		old := accessKey(net, "old", "value-old", 5)
		old.ExpiresAt = &past
		mustDo(t, db, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, old) })

		got, err := db.Read().AccessKeyByHash(ctx, net.ID, k.Hash)
		if err != nil || got.Name != "ten" || got.Uses != 10 || string(got.Sealed) != "sealed value-ten" {
			t.Fatalf("AccessKeyByHash = %+v, %v", got, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ConsumeAccessKey(ctx, net.ID, old.Hash, t0)
			return err
		}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("expired key consumed: %v", err)
		}

		// 50 concurrent transactions race for 10 uses: exactly 10 win.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ConsumeAccessKey(ctx, net.ID, k.Hash, t0)
					return err
				})
				switch {
				case err == nil:
					wins.Add(1)
				case !fault.Is(err, fault.NotFound):
					t.Errorf("consume: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 10 {
			t.Fatalf("%d joins consumed a 10-use key", wins.Load())
		}
		if got, _ := db.Read().AccessKeyByHash(ctx, net.ID, k.Hash); got.Uses != 0 {
			t.Fatalf("uses left = %d", got.Uses)
		}
		keys, err := db.Read().ListAccessKeys(ctx, net.ID)
		if err != nil || len(keys) != 2 || keys[0].Name != "old" || keys[1].Name != "ten" {
			t.Fatalf("ListAccessKeys = %d, %v", len(keys), err)
		}
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteAccessKey(ctx, net.ID, "ten") })
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAccessKey(ctx, net.ID, "ten") }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestMeshNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "g")
		net := meshNetwork(t, db, g.ID, "nodes", "10.0.0.0/16")
		a := meshNode(net, 1)
		a.Address6 = netip.MustParseAddr("fd00::1")
		a.EgressRanges = []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("fd10::/64")}
		a.Pending = true
		mustDo(t, db, func(tx *store.Tx) error {
			return tx.CreateNode(ctx, a, mesh.NodeSecrets{PasswordHash: "hash", ServerKey: []byte("sealed")})
		})
		b := meshNode(net, 2)
		mustDo(t, db, func(tx *store.Tx) error { return tx.CreateNode(ctx, b, mesh.NodeSecrets{}) })

		for _, c := range []struct {
			field string
			edit  func(n *mesh.Node)
		}{
			{"macaddress", func(n *mesh.Node) { n.MAC = a.MAC }},
			{"publickey", func(n *mesh.Node) { n.PublicKey = a.PublicKey }},
			{"address", func(n *mesh.Node) { n.Address = a.Address }},
			{"address6", func(n *mesh.Node) { n.Address6 = a.Address6 }},
		} {
			n := meshNode(net, 3)
			c.edit(n)
			wantField(t, db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateNode(ctx, n, mesh.NodeSecrets{}) }), c.field)
		}

		got, err := db.Read().NodeByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.GroupID != g.ID || got.Network != "nodes" || got.Address6 != a.Address6 || len(got.EgressRanges) != 2 ||
			got.EgressRanges[1] != a.EgressRanges[1] || !got.Pending || !got.LastCheckIn.IsZero() || !got.CreatedAt.Equal(t0) {
			t.Fatalf("NodeByID = %+v", got)
		}
		if sec, err := db.Read().NodeSecrets(ctx, a.ID); err != nil || sec.PasswordHash != "hash" || string(sec.ServerKey) != "sealed" {
			t.Fatalf("NodeSecrets = %+v, %v", sec, err)
		}
		if sec, err := db.Read().NodeSecrets(ctx, b.ID); err != nil || sec.PasswordHash != "" || sec.ServerKey != nil {
			t.Fatalf("NodeSecrets(b) = %+v, %v", sec, err)
		}

		mustDo(t, db, func(tx *store.Tx) error {
			n, err := tx.NodeForUpdate(ctx, net.ID, a.MAC)
			if err != nil {
				return err
			}
			n.Pending, n.EgressRanges, n.Address6 = false, nil, netip.Addr{}
			if err := tx.UpdateNode(ctx, n); err != nil {
				return err
			}
			if n.Revision != 2 {
				return fmt.Errorf("revision %d after update", n.Revision)
			}
			return tx.SetNodePassword(ctx, n.ID, "new")
		})
		got, _ = db.Read().NodeByID(ctx, a.ID)
		if got.Pending || got.EgressRanges != nil || got.Address6.IsValid() || got.Revision != 2 {
			t.Fatalf("after update: %+v", got)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			n, _ := tx.NodeForUpdate(ctx, net.ID, b.MAC)
			n.Address = a.Address
			return tx.UpdateNode(ctx, n)
		})
		wantField(t, err, "address")

		seen := t0.Add(time.Minute)
		mustDo(t, db, func(tx *store.Tx) error { return tx.TouchNodes(ctx, map[int64]time.Time{a.ID: seen, 999: seen}) })
		mustDo(t, db, func(tx *store.Tx) error { return tx.TouchNodes(ctx, map[int64]time.Time{a.ID: t0}) })
		if got, _ = db.Read().NodeByID(ctx, a.ID); !got.LastCheckIn.Equal(seen) {
			t.Fatalf("last check-in = %v, want %v", got.LastCheckIn, seen)
		}

		var ids []int64
		if err := db.Read().ScanNodes(ctx, 0, func(n *mesh.Node) error { ids = append(ids, n.ID); return nil }); err != nil || len(ids) != 2 || ids[0] != a.ID {
			t.Fatalf("ScanNodes = %v, %v", ids, err)
		}
		if n, err := db.Read().CountNodes(ctx, net.ID); err != nil || n != 2 {
			t.Fatalf("CountNodes = %d, %v", n, err)
		}
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteNode(ctx, a.ID) })
		if _, err := db.Read().NodeByID(ctx, a.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleted node: %v", err)
		}
	})
}
