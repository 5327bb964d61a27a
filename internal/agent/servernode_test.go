package agent_test

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"netkeep/internal/agent"
	"netkeep/internal/server/servertest"
)

// TestServerNodes: the server's own node follows its network in-process
// from addnetwork to removenetwork.
func TestServerNodes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		link := newFakeLink()
		opened := make(chan string, 4)
		sn := &agent.ServerNodes{Mesh: e.Server.Mesh, Log: testLog(), Every: 20 * time.Millisecond,
			OpenLink: func(name string, _ agent.Mode, _ *slog.Logger) (agent.Link, error) {
				opened <- name
				return link, nil
			}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { sn.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })

		newNetwork(t, e, map[string]any{"netid": "srvn", "addressrange": "10.24.0.0/24", "defaultinterface": "nk-srvtest"})
		srv := mustDo(t, e, "POST", "/api/server/addnetwork/srvn", nil).JSON
		s := link.wait(t, "the server's interface", func(s agent.Spec) bool { return len(s.Addresses) == 1 })
		if name := <-opened; name != "nk-srvtest" {
			t.Errorf("interface %q, want the network's default", name)
		}
		if s.Addresses[0] != netip.PrefixFrom(netip.MustParseAddr(srv["address"].(string)), 24) {
			t.Errorf("address %v, server node %v", s.Addresses, srv["address"])
		}
		if s.PrivateKey.PublicKey().String() != srv["publickey"].(string) {
			t.Error("the interface does not use the server node's key")
		}
		key := mustDo(t, e, "POST", "/api/networks/srvn/keys", map[string]any{"uses": 1}).JSON["value"].(string)
		host := join(t, e.URL, "srvn", key, t.TempDir())
		s = link.wait(t, "the host as the server's peer", func(s agent.Spec) bool { return hasPeer(s, host.PrivateKey.Public()) })
		if s.Peers[0].Keepalive == 0 {
			t.Error("the server keeps no keepalive towards a peer: peers could never reach it first")
		}

		// keyupdate rotates the server's key too: the interface takes the
		// new one and the node no longer needs a key update.
		mustDo(t, e, "POST", "/api/networks/srvn/keyupdate", nil)
		var rotated string
		servertest.Eventually(t, 10*time.Second, func() bool {
			s, _, _ := link.last()
			rotated = s.PrivateKey.PublicKey().String()
			return rotated != srv["publickey"].(string)
		}, "keyupdate did not give the server's interface a new key")
		var self map[string]any
		for _, n := range mustDo(t, e, "GET", "/api/nodes/srvn", nil).Array {
			if m := n.(map[string]any); m["isserver"] == true || m["macaddress"] == "02:6e:6b:00:00:01" {
				self = m
			}
		}
		if self == nil || self["publickey"] != rotated || self["needkeyupdate"] == true {
			t.Errorf("server node after keyupdate: %v, want publickey %s and no needkeyupdate", self, rotated)
		}

		mustDo(t, e, "DELETE", "/api/server/removenetwork/srvn", nil)
		servertest.Eventually(t, 10*time.Second, func() bool { _, _, closed := link.last(); return closed },
			"removenetwork did not remove the server's interface")
	})
}
