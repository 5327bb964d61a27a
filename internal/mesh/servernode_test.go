package mesh_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// fakeTunnel records what ServerNodes configures instead of programming an
// interface (internal/wg's tests and the e2e test cover the real one).
type fakeTunnel struct {
	mu        sync.Mutex
	name      string
	key       wgtypes.Key
	self      meshwire.Node
	peers     []meshwire.Peer
	keepalive time.Duration
	closed    bool
}

func (f *fakeTunnel) Configure(_ context.Context, key wgtypes.Key, v *meshwire.View, keepalive time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.key, f.self, f.peers, f.keepalive = key, v.Self(), v.Peers(), keepalive
	return nil
}

func (f *fakeTunnel) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeTunnel) state() (key wgtypes.Key, self meshwire.Node, peers []meshwire.Peer, closed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.key, f.self, f.peers, f.closed
}

// TestServerNodes: the server's own node follows its network in-process
// from AddServer to RemoveServer, and another group's network does not
// reach it before the server is added there.
func TestServerNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		tunnel := &fakeTunnel{}
		opened := make(chan string, 4)
		sn := &mesh.ServerNodes{Mesh: e.svc, Every: 20 * time.Millisecond,
			Open: func(name string, _ *slog.Logger) (mesh.ServerTunnel, error) {
				opened <- name
				tunnel.mu.Lock()
				tunnel.name = name
				tunnel.mu.Unlock()
				return tunnel, nil
			}}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { sn.Run(rctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })

		e.network(t, e.adminA, "srvn", mesh.NetworkFields{AddressRange: ptr("10.24.0.0/24"), DefaultInterface: ptr("nk-srvtest")})
		e.network(t, e.adminB, "other", mesh.NetworkFields{AddressRange: ptr("10.25.0.0/24")})
		srv, err := e.svc.AddServer(ctx, e.adminA, src, "srvn")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool { _, self, _, _ := tunnel.state(); return self.ID == srv.ID }, "the server's interface")
		if name := <-opened; name != "nk-srvtest" {
			t.Errorf("interface %q, want the network's default", name)
		}
		key, self, _, _ := tunnel.state()
		if self.Address != srv.Address.String() || key.PublicKey().String() != srv.PublicKey {
			t.Errorf("configured as %+v with key %s, want the server node %+v", self, key.PublicKey(), srv)
		}
		tunnel.mu.Lock()
		keepalive := tunnel.keepalive
		tunnel.mu.Unlock()
		if keepalive == 0 {
			t.Error("no keepalive towards peers: they could never reach the server first")
		}

		host := e.join(t, e.svc, "srvn", 1)
		waitFor(t, 10*time.Second, func() bool {
			_, _, peers, _ := tunnel.state()
			return len(peers) == 1 && peers[0].PublicKey == host.PublicKey
		}, "the host as the server's peer")

		// keyupdate rotates the server's key too: the interface takes the
		// new one and the node no longer needs a key update.
		if _, err := e.svc.KeyUpdate(ctx, e.adminA, src, "srvn"); err != nil {
			t.Fatal(err)
		}
		var rotated string
		waitFor(t, 10*time.Second, func() bool {
			k, _, _, _ := tunnel.state()
			rotated = k.PublicKey().String()
			return rotated != srv.PublicKey
		}, "keyupdate did not give the server's interface a new key")
		n, net, err := e.svc.GetNode(ctx, master, "srvn", mesh.ServerMAC)
		if err != nil || n.PublicKey != rotated || n.NeedsKeyUpdate(net) {
			t.Errorf("server node after keyupdate: %+v (%v), want publickey %s and no key update due", n, err, rotated)
		}
		if len(opened) != 0 {
			t.Errorf("an interface was opened for %q: the server is not a node of it", <-opened)
		}

		if err := e.svc.RemoveServer(ctx, e.adminA, src, "srvn"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool { _, _, _, closed := tunnel.state(); return closed },
			"RemoveServer did not remove the server's interface")
	})
}
