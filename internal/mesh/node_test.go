package mesh_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "sky", mesh.NetworkFields{AddressRange: ptr("10.7.0.0/24"), AddressRange6: ptr("fd07::/64")})
		key := e.key(t, "sky", 2)
		in := mesh.JoinFields{AccessKey: key, MAC: "8C-90-B5-06-F1-D9", PublicKey: pubkey(t), Endpoint: "203.0.113.9",
			ListenPort: 6400, Password: "reallysecret", LocalAddress: "192.168.1.20"}
		n, net, err := e.svc.Join(ctx, nil, src, "sky", in)
		if err != nil {
			t.Fatal(err)
		}
		if n.MAC != "8c:90:b5:06:f1:d9" || n.Address.String() != "10.7.0.1" || n.Address6.String() != "fd07::1" || n.Pending ||
			n.ListenPort != 6400 || n.PersistentKeepalive != mesh.DefaultKeepalive || !strings.HasPrefix(n.Name, "node-") || net.NetID != "sky" {
			t.Fatalf("joined %+v", n)
		}
		w := n.Wire(net)
		if w.AllowedIPs[0] != "10.7.0.1/32" || w.AllowedIPs[1] != "fd07::1/128" || w.CheckInInterval != mesh.DefaultCheckInInterval {
			t.Fatalf("wire %+v", w)
		}

		cases := []struct {
			name  string
			p     *authz.Principal
			netid string
			edit  func(*mesh.JoinFields)
			code  fault.Code
			field string
		}{
			{"404/network", nil, "nope", nil, fault.NotFound, ""},
			{"401/no key", nil, "sky", func(f *mesh.JoinFields) { f.AccessKey = "" }, fault.Unauthorized, ""},
			{"401/wrong key", nil, "sky", func(f *mesh.JoinFields) { f.AccessKey = "wrongwrongwrong1" }, fault.Unauthorized, ""},
			{"409/mac taken", nil, "sky", func(f *mesh.JoinFields) { f.MAC = "8c:90:b5:06:f1:d9" }, fault.Conflict, "macaddress"},
			{"409/key taken", nil, "sky", func(f *mesh.JoinFields) { f.PublicKey = n.PublicKey }, fault.Conflict, "publickey"},
			{"409/address taken", nil, "sky", func(f *mesh.JoinFields) { f.Address = "10.7.0.1" }, fault.Conflict, "address"},
			{"400/address outside", nil, "sky", func(f *mesh.JoinFields) { f.Address = "10.8.0.1" }, fault.Invalid, "address"},
			{"400/address broadcast", nil, "sky", func(f *mesh.JoinFields) { f.Address = "10.7.0.255" }, fault.Invalid, "address"},
			{"400/mac", nil, "sky", func(f *mesh.JoinFields) { f.MAC = "not-a-mac" }, fault.Invalid, "macaddress"},
			{"400/public key", nil, "sky", func(f *mesh.JoinFields) { f.PublicKey = "aorijqalrik3ajflaqrdajhkr" }, fault.Invalid, "publickey"},
			{"400/zero key", nil, "sky", func(f *mesh.JoinFields) { f.PublicKey = strings.Repeat("A", 43) + "=" }, fault.Invalid, "publickey"},
			{"400/endpoint", nil, "sky", func(f *mesh.JoinFields) { f.Endpoint = "example.com" }, fault.Invalid, "endpoint"},
			{"400/port", nil, "sky", func(f *mesh.JoinFields) { f.ListenPort = 80 }, fault.Invalid, "listenport"},
			{"400/password", nil, "sky", func(f *mesh.JoinFields) { f.Password = "short" }, fault.Invalid, "password"},
			{"400/name", nil, "sky", func(f *mesh.JoinFields) { f.Name = "bad name!" }, fault.Invalid, "name"},
			{"400/os with a control character", nil, "sky", func(f *mesh.JoinFields) { f.OS = "linux\x00" }, fault.Invalid, ""},
			{"400/os with a bidi override", nil, "sky", func(f *mesh.JoinFields) { f.OS = "xunil\u202e" }, fault.Invalid, ""},
			{"404/other group's admin", e.adminB, "sky", func(f *mesh.JoinFields) { f.AccessKey = "" }, fault.NotFound, ""},
			{"403/user without key", e.userA, "sky", func(f *mesh.JoinFields) { f.AccessKey = "" }, fault.Forbidden, ""},
		}
		for i, c := range cases {
			f := mesh.JoinFields{AccessKey: key, MAC: mac(1000 + i), PublicKey: pubkey(t)}
			if c.edit != nil {
				c.edit(&f)
			}
			_, _, err := e.svc.Join(ctx, c.p, src, c.netid, f)
			fe := fault.As(err)
			if fe == nil || fe.Code != c.code || (c.field != "" && fe.Details["field"] != c.field) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		// Failed joins consumed nothing: the key's second use is left.
		if _, _, err := e.svc.Join(ctx, nil, src, "sky", mesh.JoinFields{AccessKey: key, MAC: mac(2), PublicKey: pubkey(t)}); err != nil {
			t.Fatalf("second use: %v", err)
		}
		_, _, err = e.svc.Join(ctx, nil, src, "sky", mesh.JoinFields{AccessKey: key, MAC: mac(3), PublicKey: pubkey(t)})
		if fe := fault.As(err); fe == nil || fe.Code != fault.Unauthorized || !strings.Contains(fe.Message, "no uses left") {
			t.Fatalf("third use: %v", err)
		}
		// A static address is honoured.
		s := e.join(t, e.svc, "sky", 4, func(f *mesh.JoinFields) { f.Address = "10.7.0.200" })
		if s.Address.String() != "10.7.0.200" {
			t.Fatal(s.Address)
		}
	})
}

// TestConcurrentJoins: 50 joins race for a 10-use key; exactly 10 nodes
// exist afterwards, and no address is handed out twice, also under 100
// concurrent administrator joins.
func TestConcurrentJoins(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "race", mesh.NetworkFields{AddressRange: ptr("10.9.0.0/24"), AddressRange6: ptr("fd09::/120")})
		key := e.key(t, "race", 10)
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := e.svc.Join(ctx, nil, src, "race", mesh.JoinFields{AccessKey: key, MAC: mac(i), PublicKey: pubkey(t), Password: "pass-word-1"})
				switch {
				case err == nil:
					ok.Add(1)
				case fault.Is(err, fault.Unauthorized):
					refused.Add(1)
				default:
					t.Errorf("join %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		nodes, _, err := e.svc.ListNodes(ctx, master, "race")
		if err != nil {
			t.Fatal(err)
		}
		if ok.Load() != 10 || refused.Load() != 40 || len(nodes) != 10 {
			t.Fatalf("joins: %d ok, %d refused, %d nodes", ok.Load(), refused.Load(), len(nodes))
		}

		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.join(t, e.svc, "race", 100+i)
			}()
		}
		wg.Wait()
		nodes, _, _ = e.svc.ListNodes(ctx, master, "race")
		seen4, seen6 := map[netip.Addr]bool{}, map[netip.Addr]bool{}
		for _, n := range nodes {
			if seen4[n.Address] || seen6[n.Address6] {
				t.Fatalf("address handed out twice: %v %v", n.Address, n.Address6)
			}
			seen4[n.Address], seen6[n.Address6] = true, true
			if !netip.MustParsePrefix("10.9.0.0/24").Contains(n.Address) || !netip.MustParsePrefix("fd09::/120").Contains(n.Address6) {
				t.Fatalf("address outside the range: %v %v", n.Address, n.Address6)
			}
		}
		if len(nodes) != 110 {
			t.Fatalf("%d nodes", len(nodes))
		}
		// The IPv6 /120 has 255 addresses and the IPv4 /24 254: 144 more fit.
		for i := range 144 {
			e.join(t, e.svc, "race", 1000+i)
		}
		_, _, err = e.svc.Join(ctx, master, src, "race", mesh.JoinFields{MAC: mac(5000), PublicKey: pubkey(t)})
		if fe := fault.As(err); fe == nil || fe.Code != fault.Conflict || fe.Details["field"] != "address" {
			t.Fatalf("join into a full range: %v", err)
		}
	})
}

func TestPeerViewsAndDeltas(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "mesh", mesh.NetworkFields{AddressRange: ptr("10.10.0.0/24")})
		a, b := e.join(t, e.svc, "mesh", 1), e.join(t, e.svc, "mesh", 2)
		agentA, _ := e.follow(t, e.svc, a)
		agentB, _ := e.follow(t, e.svc, b)
		wait(t, agentA, func(x *meshsim.Agent) bool { return x.Len() == 1 }, "A sees B")
		if p, _ := agentA.Peer(b.ID); p.PublicKey != b.PublicKey || p.AllowedIPs[0] != b.Address.String()+"/32" || p.ListenPort != mesh.DefaultListenPort {
			t.Fatalf("A's view of B: %+v", p)
		}

		// A join reaches both as one upsert.
		c := e.join(t, e.svc, "mesh", 3)
		for _, ag := range []*meshsim.Agent{agentA, agentB} {
			wait(t, ag, func(x *meshsim.Agent) bool { _, ok := x.Peer(c.ID); return ok }, "C's upsert")
		}
		agentC, _ := e.follow(t, e.svc, c)
		wait(t, agentC, func(x *meshsim.Agent) bool { return x.Len() == 2 }, "C's full view")

		// The REST view agrees and excludes the node itself.
		view, err := e.svc.Peers(ctx, master, "mesh", a.MAC)
		if err != nil || view.Len() != 2 || strings.Contains(string(view.AppendTo(nil)), a.PublicKey) {
			t.Fatalf("Peers(A) = %s, %v", view.AppendTo(nil), err)
		}

		// A gateway's ranges join its AllowedIPs at every peer.
		if _, err := e.svc.CreateGateway(ctx, e.adminA, src, "mesh", b.MAC, []string{"192.168.50.0/24", "10.99.0.1/16"}, "eth0"); err != nil {
			t.Fatal(err)
		}
		for _, ag := range []*meshsim.Agent{agentA, agentC} {
			wait(t, ag, func(x *meshsim.Agent) bool {
				p, _ := x.Peer(b.ID)
				return len(p.AllowedIPs) == 3 && p.AllowedIPs[1] == "192.168.50.0/24" && p.AllowedIPs[2] == "10.99.0.0/16" && p.IsEgressGateway
			}, "gateway ranges")
		}
		wait(t, agentB, func(x *meshsim.Agent) bool { return x.Self().IsEgressGateway }, "B learns it is a gateway")
		if _, err := e.svc.CreateGateway(ctx, e.adminA, src, "mesh", b.MAC, []string{"10.10.0.0/25"}, ""); !fault.Is(err, fault.Invalid) {
			t.Fatalf("gateway over the network's own range: %v", err)
		}
		for _, iface := range []string{"eth0/../x", "eth 0", "an-interface-name-too-long"} {
			if _, err := e.svc.CreateGateway(ctx, e.adminA, src, "mesh", b.MAC, []string{"192.168.1.0/24"}, iface); !fault.Is(err, fault.Invalid) {
				t.Fatalf("gateway interface %q: %v", iface, err)
			}
		}
		if _, err := e.svc.CreateGateway(ctx, e.userA, src, "mesh", b.MAC, []string{"192.168.1.0/24"}, ""); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("USER creates a gateway: %v", err)
		}
		if _, err := e.svc.DeleteGateway(ctx, e.adminA, src, "mesh", b.MAC); err != nil {
			t.Fatal(err)
		}
		wait(t, agentA, func(x *meshsim.Agent) bool { p, _ := x.Peer(b.ID); return len(p.AllowedIPs) == 1 }, "gateway removed")

		// A key change is an upsert with the new key.
		newKey := pubkey(t)
		if _, err := e.svc.UpdateNode(ctx, e.nodePrincipal(t, e.svc, c), src, "mesh", c.MAC, mesh.NodePatch{PublicKey: &newKey}); err != nil {
			t.Fatal(err)
		}
		wait(t, agentA, func(x *meshsim.Agent) bool { p, _ := x.Peer(c.ID); return p.PublicKey == newKey }, "new key")

		// Deletion reaches every other subscriber as a removal, and ends
		// the deleted node's own stream.
		_, streamC := e.follow(t, e.svc, c)
		if err := e.svc.DeleteNode(ctx, e.adminA, src, "mesh", c.MAC); err != nil {
			t.Fatal(err)
		}
		for _, ag := range []*meshsim.Agent{agentA, agentB} {
			wait(t, ag, func(x *meshsim.Agent) bool { _, ok := x.Peer(c.ID); return !ok }, "C's removal")
		}
		<-streamC.Done()
		if streamC.Reason() != mesh.EndDeleted {
			t.Fatalf("deleted node's stream ended with %v", streamC.Reason())
		}
		if v, _ := e.svc.Peers(ctx, master, "mesh", a.MAC); v.Len() != 1 {
			t.Fatalf("A's view after deletion has %d peers", v.Len())
		}
	})
}

func TestPendingNodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "gated", mesh.NetworkFields{AddressRange: ptr("10.11.0.0/24"), RequireApproval: ptr(true), AllowManualSignUp: ptr(true)})
		a := e.join(t, e.svc, "gated", 1) // an administrator's join is approved
		agentA, _ := e.follow(t, e.svc, a)

		key := e.key(t, "gated", 5)
		p, _, err := e.svc.Join(ctx, nil, src, "gated", mesh.JoinFields{AccessKey: key, MAC: mac(2), PublicKey: pubkey(t)})
		if err != nil || !p.Pending {
			t.Fatalf("keyed join on an approval network: %+v, %v", p, err)
		}
		manual, _, err := e.svc.Join(ctx, nil, src, "gated", mesh.JoinFields{MAC: mac(3), PublicKey: pubkey(t)})
		if err != nil || !manual.Pending {
			t.Fatalf("manual sign-up: %+v, %v", manual, err)
		}
		agentP, streamP := e.follow(t, e.svc, p)
		wait(t, agentP, func(x *meshsim.Agent) bool { return x.Self().IsPending }, "pending full view")
		if agentP.Len() != 0 {
			t.Fatalf("a pending node sees %d peers", agentP.Len())
		}
		if v, _ := e.svc.Peers(ctx, master, "gated", a.MAC); v.Len() != 0 {
			t.Fatalf("pending nodes in A's view: %s", v.AppendTo(nil))
		}
		// A later change elsewhere is not pushed to the pending node.
		e.join(t, e.svc, "gated", 4)
		wait(t, agentA, func(x *meshsim.Agent) bool { return x.Len() == 1 }, "A sees the approved newcomer")
		if agentP.Len() != 0 {
			t.Fatal("a pending node received a peer")
		}

		if _, err := e.svc.Approve(ctx, e.adminA, src, "gated", p.MAC); err != nil {
			t.Fatal(err)
		}
		wait(t, agentA, func(x *meshsim.Agent) bool { _, ok := x.Peer(p.ID); return ok }, "approved node appears")
		<-streamP.Done()
		if streamP.Reason() != mesh.EndResync {
			t.Fatalf("approved node's stream: %v", streamP.Reason())
		}
		again, _ := e.follow(t, e.svc, p)
		wait(t, again, func(x *meshsim.Agent) bool { return x.Len() == 2 && !x.Self().IsPending }, "approved node's full view")
		if _, ok := again.Peer(manual.ID); ok {
			t.Fatal("the still-pending node is a peer")
		}
		if n, err := e.svc.Approve(ctx, e.adminA, src, "gated", p.MAC); err != nil || n.Pending {
			t.Fatalf("approving twice: %v", err)
		}
	})
}

func TestSlowSubscriberDropped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, mesh.WithStreamBuffer(4))
		ctx := context.Background()
		e.network(t, e.adminA, "slow", mesh.NetworkFields{})
		a := e.join(t, e.svc, "slow", 1)
		s, err := e.svc.Subscribe(ctx, e.nodePrincipal(t, e.svc, a), "slow", a.MAC)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i := range 5 { // one more change than the log keeps, unread
			e.join(t, e.svc, "slow", 10+i)
		}
		if _, err := s.Next(ctx); !errors.Is(err, mesh.ErrStreamEnded) || s.Reason() != mesh.EndResync {
			t.Fatalf("a consumer 5 changes behind a 4-change log: %v, %v", err, s.Reason())
		}
		// One that keeps up is not dropped.
		s1, err := e.svc.Subscribe(ctx, e.nodePrincipal(t, e.svc, a), "slow", a.MAC)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			e.join(t, e.svc, "slow", 20+i)
			if _, err := s1.Next(ctx); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		}
		s1.Close()
		// Resubscribing gives the complete view.
		s2, err := e.svc.Subscribe(ctx, e.nodePrincipal(t, e.svc, a), "slow", a.MAC)
		if err != nil || s2.Full().Peers() != 17 {
			t.Fatalf("resync: %v", err)
		}
		s2.Close()
	})
}

func TestNodeCredentials(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "creds", mesh.NetworkFields{})
		e.network(t, e.adminA, "other", mesh.NetworkFields{})
		a, b := e.join(t, e.svc, "creds", 1), e.join(t, e.svc, "creds", 2)
		o := e.join(t, e.svc, "other", 3)

		tok, exp, err := e.svc.AuthenticateNode(ctx, "creds", strings.ToUpper(a.MAC), "node-password")
		if err != nil || time.Until(exp) < 23*time.Hour {
			t.Fatalf("authenticate: %v", err)
		}
		pa, err := e.svc.AuthenticateNodeToken(ctx, tok)
		if err != nil || pa.Kind != authz.KindNode || pa.GroupID != e.groupA {
			t.Fatalf("token: %+v, %v", pa, err)
		}
		for name, try := range map[string]func() error{
			"wrong password": func() error { _, _, err := e.svc.AuthenticateNode(ctx, "creds", a.MAC, "wrong-password"); return err },
			"unknown node":   func() error { _, _, err := e.svc.AuthenticateNode(ctx, "creds", mac(99), "node-password"); return err },
			"wrong network":  func() error { _, _, err := e.svc.AuthenticateNode(ctx, "other", a.MAC, "node-password"); return err },
			"user token":     func() error { _, err := e.svc.AuthenticateNodeToken(ctx, "not.a.token"); return err },
		} {
			if err := try(); !fault.Is(err, fault.Unauthorized) {
				t.Errorf("%s: %v", name, err)
			}
		}

		// Its own view only.
		if _, err := e.svc.Peers(ctx, pa, "creds", a.MAC); err != nil {
			t.Fatal(err)
		}
		for name, try := range map[string]func() error{
			"peer's view":          func() error { _, err := e.svc.Peers(ctx, pa, "creds", b.MAC); return err },
			"other network's view": func() error { _, err := e.svc.Peers(ctx, pa, "other", o.MAC); return err },
			"missing network":      func() error { _, err := e.svc.Peers(ctx, pa, "nope", a.MAC); return err },
			"peer's record":        func() error { _, _, err := e.svc.GetNode(ctx, pa, "creds", b.MAC); return err },
			"peer's stream":        func() error { _, err := e.svc.Subscribe(ctx, pa, "creds", b.MAC); return err },
			"deleting a peer":      func() error { return e.svc.DeleteNode(ctx, pa, src, "creds", b.MAC) },
			"listing":              func() error { _, _, err := e.svc.ListNodes(ctx, pa, "creds"); return err },
			"approving itself":     func() error { _, err := e.svc.Approve(ctx, pa, src, "creds", a.MAC); return err },
			"its own gateway": func() error {
				_, err := e.svc.CreateGateway(ctx, pa, src, "creds", a.MAC, []string{"192.168.9.0/24"}, "")
				return err
			},
			"readdressing itself": func() error {
				_, err := e.svc.UpdateNode(ctx, pa, src, "creds", a.MAC, mesh.NodePatch{Address: ptr("100.64.0.99")})
				return err
			},
			"networks":             func() error { _, err := e.svc.ListNetworks(ctx, pa); return err },
			"other network's time": func() error { _, err := e.svc.LastModified(ctx, pa, "other"); return err },
		} {
			if err := try(); !fault.Is(err, fault.Forbidden) {
				t.Errorf("%s: %v, want forbidden", name, err)
			}
		}
		if _, err := e.svc.LastModified(ctx, pa, "creds"); err != nil {
			t.Fatal(err)
		}
		// A node changes its own fields (sending unchanged ones back too).
		n, err := e.svc.UpdateNode(ctx, pa, src, "creds", a.MAC, mesh.NodePatch{Endpoint: ptr("203.0.113.7"), Address: ptr(a.Address.String()), Name: ptr("laptop1")})
		if err != nil || n.Endpoint != "203.0.113.7" || n.Name != "laptop1" {
			t.Fatalf("self update: %+v, %v", n, err)
		}
		if _, _, err := e.svc.CheckIn(ctx, pa, "creds", a.MAC); err != nil {
			t.Fatal(err)
		}
		got, _, _ := e.svc.GetNode(ctx, pa, "creds", a.MAC)
		if got.LastCheckIn.IsZero() {
			t.Fatal("check-in not recorded")
		}
		if err := e.svc.FlushCheckIns(ctx); err != nil {
			t.Fatal(err)
		}
		// Leaving deletes the node and revokes its token.
		if err := e.svc.DeleteNode(ctx, pa, src, "creds", a.MAC); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AuthenticateNodeToken(ctx, tok); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("deleted node's token: %v", err)
		}
	})
}

func TestKeyUpdateAndServerNode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "rot", mesh.NetworkFields{AddressRange6: ptr("fd33::/64")})
		a := e.join(t, e.svc, "rot", 1)
		agent, _ := e.follow(t, e.svc, a)
		if _, err := e.svc.KeyUpdate(ctx, e.adminA, src, "rot"); err != nil {
			t.Fatal(err)
		}
		wait(t, agent, func(x *meshsim.Agent) bool { return x.KeyUpdates() == 1 }, "keyupdate message")
		n, net, err := e.svc.CheckIn(ctx, master, "rot", a.MAC)
		if err != nil {
			t.Fatal(err)
		}
		if !n.NeedsKeyUpdate(net) || !n.Wire(net).NeedKeyUpdate {
			t.Fatal("the node is not told to rotate")
		}

		srv, err := e.svc.AddServer(ctx, e.adminA, src, "rot")
		if err != nil || !srv.IsServer || srv.MAC != mesh.ServerMAC || srv.Pending {
			t.Fatalf("AddServer: %+v, %v", srv, err)
		}
		wait(t, agent, func(x *meshsim.Agent) bool { p, ok := x.Peer(srv.ID); return ok && p.IsServer }, "server as a peer")
		if _, err := e.svc.AddServer(ctx, e.adminA, src, "rot"); !fault.Is(err, fault.Conflict) {
			t.Fatalf("second AddServer: %v", err)
		}
		key, err := e.svc.ServerKey(ctx, "rot")
		if err != nil || key.PublicKey().String() != srv.PublicKey {
			t.Fatalf("ServerKey: %v", err)
		}
		conf, err := e.svc.Config(ctx, master, "rot", a.MAC)
		if err != nil {
			t.Fatal(err)
		}
		text := string(conf)
		for _, want := range []string{"PrivateKey = " + mesh.PrivateKeyPlaceholder, "Address = " + a.Address.String() + "/24, " + a.Address6.String() + "/64",
			"PublicKey = " + srv.PublicKey, "PersistentKeepalive = 20"} {
			if !strings.Contains(text, want) {
				t.Errorf("config lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, key.String()) {
			t.Fatal("the config contains the server's private key")
		}
		if err := e.svc.RemoveServer(ctx, e.adminA, src, "rot"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RemoveServer(ctx, e.adminA, src, "rot"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second RemoveServer: %v", err)
		}
		wait(t, agent, func(x *meshsim.Agent) bool { _, ok := x.Peer(srv.ID); return !ok }, "server removed")
	})
}

// TestRestartLoadsState: a new service over the same database serves the
// same views.
func TestRestartLoadsState(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		e.network(t, e.adminA, "keep", mesh.NetworkFields{})
		for i := range 5 {
			e.join(t, e.svc, "keep", i)
		}
		if _, err := e.svc.CreateGateway(ctx, e.adminA, src, "keep", mac(2), []string{"172.16.0.0/12"}, ""); err != nil {
			t.Fatal(err)
		}
		before, _ := e.svc.Peers(ctx, master, "keep", mac(0))
		again := e.start(t, nil)
		after, err := again.Peers(ctx, master, "keep", mac(0))
		if err != nil || after.Len() != 4 || string(sortedView(after)) != string(sortedView(before)) {
			t.Fatalf("views differ after restart:\n%s\n%s", before.AppendTo(nil), after.AppendTo(nil))
		}
		// The restarted service allocates past the loaded addresses.
		n := e.join(t, again, "keep", 9)
		if n.Address.String() != "100.64.0.6" {
			t.Fatalf("allocation after restart: %v", n.Address)
		}
	})
}

func sortedView(l mesh.PeerList) string {
	var s []string
	l.Each(func(e []byte) { s = append(s, string(e)) })
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return strings.Join(s, ",")
}

// A key past its expiry admits no one, and the refusal says why.
func TestJoinExpiredKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var ahead atomic.Int64
		e := newEnv(t, db, mesh.WithClock(func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }))
		ctx := context.Background()
		e.network(t, e.adminA, "exp", mesh.NetworkFields{AddressRange: ptr("10.9.0.0/24")})
		at := time.Now().Add(time.Hour)
		k, err := e.svc.CreateKey(ctx, e.adminA, src, "exp", mesh.KeyFields{Uses: 5, ExpiresAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Join(ctx, nil, src, "exp", mesh.JoinFields{AccessKey: k.Value, MAC: mac(1), PublicKey: pubkey(t)}); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		ahead.Store(int64(2 * time.Hour))
		_, _, err = e.svc.Join(ctx, nil, src, "exp", mesh.JoinFields{AccessKey: k.Value, MAC: mac(2), PublicKey: pubkey(t)})
		if fe := fault.As(err); fe == nil || fe.Code != fault.Unauthorized || !strings.Contains(fe.Message, "has expired") {
			t.Fatalf("after expiry: %v", err)
		}
	})
}
