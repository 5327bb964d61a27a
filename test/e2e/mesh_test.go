package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"netkeep/internal/testpeer"
)

const masterKey = "e2e-master-key-0123456789abcdefghijklmnopq"

// node is one host of the mesh: its namespace, agent and interface.
type node struct {
	name, ns, iface, stateDir string
	agent                     *proc
	mac, address              string
}

// TestMeshWithRealWireGuard runs `netkeep serve` and `netkeep agent` (its
// built-in userspace WireGuard over TUN) in network namespaces and checks
// the mesh with ping and wg: full connectivity, an egress gateway, key
// rotation, a server restart, node deletion, approval and leaving, and the
// server's own node (addnetwork), which it runs in-process.
func TestMeshWithRealWireGuard(t *testing.T) {
	l := newLab(t)
	ping := testpeer.Command(t, "ping", "iputils-ping")
	wg := testpeer.Command(t, "wg", "wireguard-tools")
	bin := l.build()

	srvNS := l.host("srv", 1)
	dataDir := filepath.Join(l.dir, "server-data")
	starts := 0
	serve := func() *proc {
		starts++
		return l.start(fmt.Sprintf("server-%d", starts), srvNS, bin, "serve", "--listen", labSubnet+"1:8080", "--data-dir", dataDir,
			"--master-key", masterKey, "--radius-listen", "", "--radius-acct-listen", "", "--log-level", "info")
	}
	first := serve()
	a := &api{t: t, base: "http://" + labSubnet + "1:8080", key: masterKey, hc: l.client(srvNS)}
	ready := func() error { return a.try("GET", "/readyz", nil, http.StatusOK, nil) }
	eventually(t, 30*time.Second, "the server is ready", ready)

	var group struct{ ID int64 }
	a.do("POST", "/api/v1/groups", map[string]any{"name": "e2e"}, http.StatusCreated, &group)
	a.do("POST", "/api/networks", map[string]any{"netid": "e2e", "addressrange": "10.123.0.0/24", "group_id": group.ID,
		"defaultinterface": l.id + "ws"}, http.StatusOK, nil)
	// The server itself joins: it runs the node in-process on its own host.
	var srvNode struct{ Address string }
	a.do("POST", "/api/server/addnetwork/e2e", nil, http.StatusOK, &srvNode)
	if srvNode.Address == "" {
		t.Fatal("the server's node has no address")
	}
	var key struct{ AccessString string }
	a.do("POST", "/api/networks/e2e/keys", map[string]any{"uses": 10}, http.StatusOK, &key)
	if key.AccessString == "" {
		t.Fatal("the access key has no accessstring")
	}

	nodes := map[string]*node{}
	join := func(name string, n int) *node {
		nd := &node{name: name, ns: l.host(name, n), iface: l.id + "w" + name[1:], stateDir: filepath.Join(l.dir, "agent-"+name)}
		nd.agent = l.start("agent-"+name, nd.ns, bin, "agent", "join", key.AccessString, "--state-dir", nd.stateDir,
			"--interface", nd.iface, "--name", name, "--wireguard", "userspace")
		nodes[name] = nd
		return nd
	}
	// registered fills mac and address from the server once the node exists.
	registered := func(nd *node) {
		t.Helper()
		eventually(t, 20*time.Second, nd.name+" registered", func() error {
			var list []struct {
				Name, MACAddress, Address string
			}
			if err := a.try("GET", "/api/nodes/e2e", nil, http.StatusOK, &list); err != nil {
				return err
			}
			for _, n := range list {
				if n.Name == nd.name {
					nd.mac, nd.address = n.MACAddress, n.Address
					return nil
				}
			}
			return fmt.Errorf("no node named %s", nd.name)
		})
	}
	pingOK := func(from *node, addr string) {
		t.Helper()
		eventually(t, 20*time.Second, fmt.Sprintf("%s pings %s", from.name, addr), func() error {
			out, err := l.exec(from.ns, ping, "-c", "1", "-W", "1", addr)
			if err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
	}
	pingFails := func(from *node, addr string) {
		t.Helper()
		if out, err := l.exec(from.ns, ping, "-c", "2", "-W", "1", addr); err == nil {
			t.Fatalf("%s reaches %s, but must not:\n%s", from.name, addr, out)
		}
	}
	allPairs := func(names ...string) {
		t.Helper()
		for _, x := range names {
			for _, y := range names {
				if x != y {
					pingOK(nodes[x], nodes[y].address)
				}
			}
		}
	}
	wgShow := func(nd *node, what string) []string {
		t.Helper()
		out, err := l.exec(nd.ns, wg, "show", nd.iface, what)
		if err != nil {
			t.Fatalf("wg show %s %s: %v: %s", nd.iface, what, err, out)
		}
		return strings.Fields(out)
	}

	// Three hosts join; every pair reaches each other over WireGuard.
	for i, name := range []string{"h1", "h2", "h3"} {
		registered(join(name, 11+i))
	}
	allPairs("h1", "h2", "h3")
	for _, name := range []string{"h1", "h2", "h3"} {
		pingOK(nodes[name], srvNode.Address)
	}

	// An egress gateway: h3 announces a range that exists on a dummy
	// interface in its namespace; the others reach it through h3.
	h1, h2, h3 := nodes["h1"], nodes["h2"], nodes["h3"]
	l.dummy(h3.ns, "lan0", "192.168.77.1/24")
	pingFails(h1, "192.168.77.1")
	a.do("POST", "/api/nodes/e2e/"+h3.mac+"/creategateway", map[string]any{"ranges": []string{"192.168.77.0/24"}}, http.StatusOK, nil)
	pingOK(h1, "192.168.77.1")
	pingOK(h2, "192.168.77.1")

	// Key rotation: every agent publishes a new key; peers follow.
	oldKeys := map[string]string{}
	for _, nd := range []*node{h1, h2, h3} {
		oldKeys[nd.name] = wgShow(nd, "public-key")[0]
	}
	a.do("POST", "/api/networks/e2e/keyupdate", nil, http.StatusOK, nil)
	for _, nd := range []*node{h1, h2, h3} {
		eventually(t, 20*time.Second, nd.name+" rotated its key and its peers know it", func() error {
			pub := wgShow(nd, "public-key")[0]
			if pub == oldKeys[nd.name] {
				return fmt.Errorf("still the old key")
			}
			for _, other := range []*node{h1, h2, h3} {
				if other != nd && !slices.Contains(wgShow(other, "peers"), pub) {
					return fmt.Errorf("%s does not have the new key %s", other.name, pub)
				}
			}
			return nil
		})
	}
	allPairs("h1", "h2", "h3")

	// Deleting a node removes it from every peer within seconds, and its
	// agent stops and removes its interface.
	h2Key := wgShow(h2, "public-key")[0]
	a.do("DELETE", "/api/nodes/e2e/"+h2.mac, nil, http.StatusOK, nil)
	for _, nd := range []*node{h1, h3} {
		eventually(t, 5*time.Second, "h2 gone from "+nd.name, func() error {
			if slices.Contains(wgShow(nd, "peers"), h2Key) {
				return fmt.Errorf("h2's key is still a peer")
			}
			return nil
		})
	}
	if err := h2.agent.exited(t, 10*time.Second); err == nil {
		t.Error("h2's agent exited with status 0 after its node was deleted")
	}
	if out, err := l.exec(h2.ns, l.ip, "link", "show", h2.iface); err == nil {
		t.Errorf("h2's interface survived its deletion:\n%s", out)
	}
	pingOK(h1, h3.address)

	// A server restart: the agents keep their tunnels meanwhile, reconnect
	// and resynchronise; the changes below, made after the restart, reach
	// them (h1 and h3 must learn of h4's approval).
	first.stop()
	pingOK(h1, h3.address)
	serve() // the lab stops it when the test ends, as every process it started
	eventually(t, 30*time.Second, "the restarted server is ready", ready)
	pingOK(h3, srvNode.Address) // the server's node is back

	// A node joining a network that requires approval gets no traffic
	// until approved.
	a.do("PUT", "/api/networks/e2e", map[string]any{"requireapproval": true}, http.StatusOK, nil)
	h4 := join("h4", 14)
	registered(h4)
	eventually(t, 20*time.Second, "h4's interface has its address", func() error {
		out, err := l.exec(h4.ns, l.ip, "-4", "addr", "show", "dev", h4.iface)
		if err != nil || !strings.Contains(out, h4.address+"/") {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	if peers := wgShow(h4, "peers"); len(peers) != 0 {
		t.Fatalf("pending h4 has peers %v", peers)
	}
	pingFails(h4, h1.address)
	pingFails(h1, h4.address)
	a.do("POST", "/api/nodes/e2e/"+h4.mac+"/approve", nil, http.StatusOK, nil)
	pingOK(h4, h1.address)
	pingOK(h1, h4.address)
	pingOK(h4, h3.address)
	pingOK(h4, "192.168.77.1")

	// Leaving: the node is deleted with its own credential, the running
	// agent stops, and the others drop it.
	if out, err := l.exec(h4.ns, bin, "agent", "leave", "--state-dir", h4.stateDir); err != nil {
		t.Fatalf("agent leave: %v: %s", err, out)
	}
	if err := h4.agent.exited(t, 10*time.Second); err == nil {
		t.Error("h4's agent exited with status 0 after leaving")
	}
	a.do("GET", "/api/nodes/e2e/"+h4.mac, nil, http.StatusNotFound, nil)
	eventually(t, 5*time.Second, "h4 gone from h1", func() error {
		if len(wgShow(h1, "peers")) != 2 {
			return fmt.Errorf("h1 has peers %v, want only h3 and the server", wgShow(h1, "peers"))
		}
		return nil
	})

	// The server leaves: its interface goes, and its peers drop it.
	a.do("DELETE", "/api/server/removenetwork/e2e", nil, http.StatusOK, nil)
	eventually(t, 10*time.Second, "the server's interface removed", func() error {
		if out, err := l.exec(srvNS, l.ip, "link", "show", l.id+"ws"); err == nil {
			return fmt.Errorf("still there: %s", out)
		}
		return nil
	})
	eventually(t, 5*time.Second, "the server gone from h1", func() error {
		if len(wgShow(h1, "peers")) != 1 {
			return fmt.Errorf("h1 has peers %v, want only h3", wgShow(h1, "peers"))
		}
		return nil
	})
}
