package agent_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/agent"
	"netkeep/internal/identity"
	"netkeep/internal/meshwire"
	"netkeep/internal/server/servertest"
	"netkeep/internal/wg"
)

// fakeLink records the specs an agent applies instead of programming an
// interface (the real one needs root; the e2e test covers it).
type fakeLink struct {
	mu     sync.Mutex
	specs  []wg.Spec
	closed bool
	notify chan struct{}
}

func newFakeLink() *fakeLink { return &fakeLink{notify: make(chan struct{})} }

func (f *fakeLink) Apply(_ context.Context, s wg.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs = append(f.specs, s)
	close(f.notify)
	f.notify = make(chan struct{})
	return nil
}

func (f *fakeLink) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	close(f.notify)
	f.notify = make(chan struct{})
	return nil
}

func (f *fakeLink) last() (wg.Spec, int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.specs) == 0 {
		return wg.Spec{}, 0, f.closed
	}
	return f.specs[len(f.specs)-1], len(f.specs), f.closed
}

// wait polls until cond holds over the last applied spec. The deadline is
// generous: under a full test run on two cores a reconnection through the
// test's proxy has taken longer than 10 s.
func (f *fakeLink) wait(t *testing.T, what string, cond func(s wg.Spec) bool) wg.Spec {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		f.mu.Lock()
		ch := f.notify
		f.mu.Unlock()
		if s, n, _ := f.last(); n > 0 && cond(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline:
			s, n, closed := f.last()
			t.Fatalf("waited 30 s for %s; %d specs applied (link closed: %v), the last with peers %v",
				what, n, closed, peerKeys(s))
		}
	}
}

// peerKeys are s's peers' public keys, for failure messages.
func peerKeys(s wg.Spec) []string {
	keys := make([]string, 0, len(s.Peers))
	for _, p := range s.Peers {
		keys = append(keys, p.PublicKey.String())
	}
	return keys
}

func hasPeer(s wg.Spec, pub string) bool {
	return slices.ContainsFunc(s.Peers, func(p wg.PeerSpec) bool { return p.PublicKey.String() == pub })
}

func testLog() *slog.Logger {
	if os.Getenv("NETKEEP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// runningAgent is an agent running in the background over a fake link.
type runningAgent struct {
	dir  string
	link *fakeLink
	stop context.CancelFunc
	done chan error
}

func startAgent(t *testing.T, dir string, st *agent.State) *runningAgent {
	t.Helper()
	ra := &runningAgent{dir: dir, link: newFakeLink(), done: make(chan error, 1)}
	cfg := agent.Config{Dir: dir, Log: testLog(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		OpenLink: func(name string, mode wg.Mode, _ *slog.Logger) (wg.Link, error) { return ra.link, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	ra.stop = cancel
	go func() { ra.done <- agent.New(cfg, st).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ra.done
	})
	return ra
}

func (ra *runningAgent) ended(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ra.done:
		ra.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop")
		return nil
	}
}

func join(t *testing.T, server, netid, key, dir string) *agent.State {
	t.Helper()
	st, err := agent.Join(context.Background(), agent.Config{Dir: dir, Log: testLog()},
		agent.JoinOptions{Server: server, Network: netid, Key: key, Name: "host-" + netid, Endpoint: "192.0.2.10"})
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	return st
}

func mustDo(t *testing.T, e *servertest.Env, method, path string, body any) *servertest.Response {
	t.Helper()
	r := e.Do(t, method, path, body, servertest.Master()...)
	if r.Status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
	}
	return r
}

// newNetwork creates a network (in a fresh group) as the master key.
func newNetwork(t *testing.T, e *servertest.Env, body map[string]any) {
	t.Helper()
	u := e.CreateUser(t, "admin-"+body["netid"].(string), "correct-horse-battery-staple", identity.GroupAdmin, "group-"+body["netid"].(string))
	body["group_id"] = u.GroupID
	mustDo(t, e, "POST", "/api/networks", body)
}

func serverKey(t *testing.T, e *servertest.Env, netid, mac string) string {
	t.Helper()
	return mustDo(t, e, "GET", "/api/nodes/"+netid+"/"+mac, nil).JSON["publickey"].(string)
}

// TestAgentFollowsTheServer runs an agent against a real server and checks
// that every kind of change reaches its interface configuration.
func TestAgentFollowsTheServer(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		newNetwork(t, e, map[string]any{"netid": "agt", "addressrange": "10.20.0.0/24", "defaultkeepalive": 25})
		access := mustDo(t, e, "POST", "/api/networks/agt/keys", map[string]any{"uses": 5}).JSON["accessstring"].(string)

		dir := t.TempDir()
		var o agent.JoinOptions
		if err := o.FromAccessString(access); err != nil {
			t.Fatal(err)
		}
		st, err := agent.Join(context.Background(), agent.Config{Dir: dir, Log: testLog()}, o)
		if err != nil {
			t.Fatal(err)
		}
		if st.Interface != "nk-agt" || st.Token == "" || st.Password == "" || st.NodeID == 0 {
			t.Fatalf("state after join: interface %q, token set %v, password set %v, id %d",
				st.Interface, st.Token != "", st.Password != "", st.NodeID)
		}
		if got := serverKey(t, e, "agt", st.MACAddress); got != st.PrivateKey.Public() {
			t.Fatalf("the server has key %s, the agent %s", got, st.PrivateKey.Public())
		}
		a := startAgent(t, dir, st)
		s := a.link.wait(t, "the address", func(s wg.Spec) bool { return len(s.Addresses) == 1 })
		if !netip.MustParsePrefix("10.20.0.0/24").Contains(s.Addresses[0].Addr()) || s.Addresses[0].Bits() != 24 || len(s.Peers) != 0 {
			t.Fatalf("first spec %+v", s)
		}

		// A peer joins, becomes an egress gateway, and leaves.
		peerKey, _ := wgtypes.GeneratePrivateKey()
		pub := peerKey.PublicKey().String()
		key2 := mustDo(t, e, "POST", "/api/networks/agt/keys", map[string]any{"uses": 1}).JSON["value"].(string)
		r := e.Do(t, "POST", "/api/nodes/agt", map[string]any{"accesskey": key2, "macaddress": "02:00:00:00:00:b2",
			"publickey": pub, "endpoint": "192.0.2.20", "listenport": 51999})
		if r.Status != http.StatusOK {
			t.Fatalf("peer join: %d %s", r.Status, r.Raw)
		}
		s = a.link.wait(t, "the new peer", func(s wg.Spec) bool { return hasPeer(s, pub) })
		if p := s.Peers[0]; p.Endpoint.String() != "192.0.2.20:51999" || p.Keepalive != 25*time.Second {
			t.Errorf("peer spec %+v", p)
		}
		mustDo(t, e, "POST", "/api/nodes/agt/02:00:00:00:00:b2/creategateway", map[string]any{"ranges": []string{"192.168.50.0/24"}})
		a.link.wait(t, "the egress route", func(s wg.Spec) bool {
			return slices.Contains(s.Routes, netip.MustParsePrefix("192.168.50.0/24"))
		})
		mustDo(t, e, "DELETE", "/api/nodes/agt/02:00:00:00:00:b2", nil)
		a.link.wait(t, "the peer's removal", func(s wg.Spec) bool { return !hasPeer(s, pub) && len(s.Routes) == 0 })

		// Key rotation: the agent publishes a new key and configures it.
		old := st.PrivateKey.Public()
		mustDo(t, e, "POST", "/api/networks/agt/keyupdate", nil)
		s = a.link.wait(t, "the rotated key", func(s wg.Spec) bool { return s.PrivateKey.PublicKey().String() != old })
		servertest.Eventually(t, 5*time.Second, func() bool {
			return serverKey(t, e, "agt", st.MACAddress) == s.PrivateKey.PublicKey().String()
		}, "the server never got the rotated public key")
		saved, err := agent.LoadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		if saved.PrivateKey.Public() != s.PrivateKey.PublicKey().String() || saved.PendingKey != nil {
			t.Errorf("the saved key is not the rotated one (pending %v)", saved.PendingKey != nil)
		}

		// Deleting the node stops the agent, removes its interface and its state.
		mustDo(t, e, "DELETE", "/api/nodes/agt/"+st.MACAddress, nil)
		if err := a.ended(t); !errors.Is(err, agent.ErrNodeGone) {
			t.Fatalf("agent ended with %v, want ErrNodeGone", err)
		}
		if _, _, closed := a.link.last(); !closed {
			t.Error("the interface was not removed")
		}
		if _, err := agent.LoadState(dir); !errors.Is(err, agent.ErrNoState) {
			t.Errorf("state after deletion: %v", err)
		}
	})
}

// TestAgentApproval: a pending node has no peers and is nobody's peer until
// approved; approval makes the server end its stream (resync) and the agent
// reconnects to a full view with peers.
func TestAgentApproval(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		newNetwork(t, e, map[string]any{"netid": "appr", "addressrange": "10.21.0.0/24"})
		key := mustDo(t, e, "POST", "/api/networks/appr/keys", map[string]any{"uses": 5}).JSON["value"].(string)
		stA := join(t, e.URL, "appr", key, t.TempDir())
		a := startAgent(t, t.TempDir(), stA)
		a.link.wait(t, "A's address", func(s wg.Spec) bool { return len(s.Addresses) == 1 })

		mustDo(t, e, "PUT", "/api/networks/appr", map[string]any{"requireapproval": true})
		dirB := t.TempDir()
		stB := join(t, e.URL, "appr", key, dirB)
		b := startAgent(t, dirB, stB)
		b.link.wait(t, "B's address", func(s wg.Spec) bool { return len(s.Addresses) == 1 })
		if s, _, _ := a.link.last(); hasPeer(s, stB.PrivateKey.Public()) {
			t.Fatal("a pending node is A's peer")
		}
		if s, _, _ := b.link.last(); len(s.Peers) != 0 {
			t.Fatalf("a pending node has peers %+v", s.Peers)
		}
		mustDo(t, e, "POST", "/api/nodes/appr/"+stB.MACAddress+"/approve", nil)
		b.link.wait(t, "B's peers after approval", func(s wg.Spec) bool { return hasPeer(s, stA.PrivateKey.Public()) })
		a.link.wait(t, "B as A's peer", func(s wg.Spec) bool { return hasPeer(s, stB.PrivateKey.Public()) })

		// leave: the node is deleted with its own credential; the running
		// agent sees it and stops.
		if err := agent.Leave(context.Background(), agent.Config{Dir: dirB, Log: testLog()}); err != nil {
			t.Fatal(err)
		}
		if err := b.ended(t); !errors.Is(err, agent.ErrNodeGone) {
			t.Fatalf("B ended with %v", err)
		}
		if r := e.Do(t, "GET", "/api/nodes/appr/"+stB.MACAddress, nil, servertest.Master()...); r.Status != http.StatusNotFound {
			t.Fatalf("after leave the node answers %d", r.Status)
		}
		a.link.wait(t, "B's removal at A", func(s wg.Spec) bool { return !hasPeer(s, stB.PrivateKey.Public()) })
		if err := agent.Leave(context.Background(), agent.Config{Dir: dirB, Log: testLog()}); !errors.Is(err, agent.ErrNoState) {
			t.Errorf("leaving twice: %v", err)
		}
	})
}

// TestAgentReconnects cuts the agent off the server (through a proxy that
// can refuse), changes the mesh meanwhile, and checks that the reconnected
// agent resynchronised; then restarts the agent and checks it configures
// its saved view before it reaches the server.
func TestAgentReconnects(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		target, _ := url.Parse(e.URL)
		var down atomic.Bool
		var refused atomic.Int64
		var streams, withDigest atomic.Int64 // stream connections through the proxy; those offering a view digest
		rp := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				refused.Add(1)
				http.Error(w, "down", http.StatusBadGateway)
				return
			}
			if strings.HasSuffix(r.URL.Path, "/stream") {
				streams.Add(1)
				if _, err := meshwire.ParseViewDigest(r.Header.Get(meshwire.HeaderView)); err == nil {
					withDigest.Add(1)
				}
			}
			rp.ServeHTTP(w, r)
		}))
		conns := &connTracker{Listener: proxy.Listener}
		proxy.Listener = conns
		proxy.Start()
		t.Cleanup(proxy.Close)

		newNetwork(t, e, map[string]any{"netid": "recon", "addressrange": "10.22.0.0/24"})
		key := mustDo(t, e, "POST", "/api/networks/recon/keys", map[string]any{"uses": 5}).JSON["value"].(string)
		dir := t.TempDir()
		st := join(t, proxy.URL, "recon", key, dir)
		stPeer := join(t, e.URL, "recon", key, t.TempDir())
		a := startAgent(t, dir, st)
		a.link.wait(t, "the peer", func(s wg.Spec) bool { return hasPeer(s, stPeer.PrivateKey.Public()) })
		if streams.Load() != 1 || withDigest.Load() != 0 {
			t.Fatalf("first connection: %d streams, %d with a digest; want 1 without", streams.Load(), withDigest.Load())
		}

		down.Store(true)
		conns.closeAll() // hijacked (WebSocket) connections included
		mustDo(t, e, "DELETE", "/api/nodes/recon/"+stPeer.MACAddress, nil)
		stNew := join(t, e.URL, "recon", key, t.TempDir())
		servertest.Eventually(t, 5*time.Second, func() bool { return refused.Load() >= 2 }, "the agent did not try to reconnect")
		if s, _, _ := a.link.last(); !hasPeer(s, stPeer.PrivateKey.Public()) {
			t.Fatal("the agent changed its peers while cut off")
		}
		down.Store(false)
		a.link.wait(t, "the resynchronised view (peer "+stPeer.PrivateKey.Public()+" gone, "+stNew.PrivateKey.Public()+" added)", func(s wg.Spec) bool {
			return !hasPeer(s, stPeer.PrivateKey.Public()) && hasPeer(s, stNew.PrivateKey.Public())
		})
		if streams.Load() < 2 || withDigest.Load() != streams.Load()-1 {
			t.Fatalf("reconnections: %d streams, %d with a digest; want every one after the first", streams.Load(), withDigest.Load())
		}

		// Restart from the saved state with the server unreachable: the saved
		// view configures the interface at once.
		a.stop()
		if err := a.ended(t); err != nil {
			t.Fatalf("stopping: %v", err)
		}
		down.Store(true)
		saved, err := agent.LoadState(dir)
		if err != nil {
			t.Fatal(err)
		}
		b := startAgent(t, dir, saved)
		b.link.wait(t, "the saved view (peer "+stNew.PrivateKey.Public()+")", func(s wg.Spec) bool { return hasPeer(s, stNew.PrivateKey.Public()) })
		down.Store(false)
		stLate := join(t, e.URL, "recon", key, t.TempDir())
		b.link.wait(t, "a change after the restart (peer "+stLate.PrivateKey.Public()+" added)", func(s wg.Spec) bool { return hasPeer(s, stLate.PrivateKey.Public()) })
		if withDigest.Load() != streams.Load()-1 {
			t.Fatalf("the restarted agent connected without the digest of its saved view (%d streams, %d with)", streams.Load(), withDigest.Load())
		}
	})
}

// connTracker is a listener that can close every connection it accepted,
// hijacked ones included (httptest's CloseClientConnections skips those).
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *connTracker) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// TestStreamOutlivesServerTimeouts runs the stream through an http.Server
// with read and write timeouts far shorter than the stream's life (the real
// server has 60 s ones): the handler must clear the deadlines of the
// hijacked connection, or the first message after them fails and the agent
// reconnects. One connection must carry everything.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	const timeout = 300 * time.Millisecond
	var conns atomic.Int64
	hs := &http.Server{Handler: e.Server.Handler(), ReadTimeout: timeout, WriteTimeout: timeout,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	newNetwork(t, e, map[string]any{"netid": "long", "addressrange": "10.23.0.0/24"})
	key := mustDo(t, e, "POST", "/api/networks/long/keys", map[string]any{"uses": 5}).JSON["value"].(string)
	dir := t.TempDir()
	st := join(t, e.URL, "long", key, dir) // joined directly: only the stream uses hs
	st.Server = "http://" + ln.Addr().String()
	a := startAgent(t, dir, st)
	a.link.wait(t, "the full view", func(s wg.Spec) bool { return len(s.Addresses) == 1 })
	time.Sleep(3 * timeout) // the passing of the server's deadlines is what is tested
	other := join(t, e.URL, "long", key, t.TempDir())
	a.link.wait(t, "a change after the deadlines", func(s wg.Spec) bool { return hasPeer(s, other.PrivateKey.Public()) })
	if n := conns.Load(); n != 1 {
		t.Fatalf("the agent made %d connections, want 1: the stream was cut", n)
	}
}

// TestAgentCredentials: an agent whose token is refused gets a new one with
// its password, and its check-ins (every checkininterval) renew the token.
func TestAgentCredentials(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		newNetwork(t, e, map[string]any{"netid": "cred", "addressrange": "10.25.0.0/24", "checkininterval": 2})
		key := mustDo(t, e, "POST", "/api/networks/cred/keys", map[string]any{"uses": 1}).JSON["value"].(string)
		dir := t.TempDir()
		st := join(t, e.URL, "cred", key, dir)
		const refused = "eyJhbGciOiJIUzI1NiJ9.e30.invalid" // as after the server's secret changed
		st.Token = refused
		if err := st.Save(dir); err != nil {
			t.Fatal(err)
		}
		mac := st.MACAddress
		a := startAgent(t, dir, st) // st is the agent's from here on
		a.link.wait(t, "the full view", func(s wg.Spec) bool { return len(s.Addresses) == 1 })
		var first string
		servertest.Eventually(t, 5*time.Second, func() bool {
			saved, err := agent.LoadState(dir)
			if err != nil {
				return false
			}
			first = saved.Token
			return first != "" && first != refused
		}, "the agent did not authenticate with its password")
		servertest.Eventually(t, 10*time.Second, func() bool {
			saved, err := agent.LoadState(dir)
			return err == nil && saved.Token != first
		}, "check-ins did not renew the token")
		r := mustDo(t, e, "GET", "/api/nodes/cred/"+mac, nil)
		if r.JSON["lastcheckin"].(float64) == 0 {
			t.Error("the server recorded no check-in")
		}
	})
}
