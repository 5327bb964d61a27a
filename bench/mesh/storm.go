package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/meshwire"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store"
)

// The reconnect storm: a real server in a child process (so its memory is
// its own) serves a network of -nodes; -storm-streams agents, each with its
// own node token, hold WebSocket streams to it; the server is stopped (its
// streams end with 1001), -storm-changes nodes change while it is down, and
// a new server process starts over the same database. Every agent reconnects
// at once, offering the digest of the view it holds, and the run reports how
// long until every one has its first message from the new server, the bytes
// that took, and the server's resident memory idle, with the streams
// connected, and after they went.
//
// -storm-refs of the agents are full simulated agents (meshsim) that apply
// every message and are checked against the server's view afterwards; the
// others count bytes and offer the digest the reference agents compute for
// them (what each holds is the same network less its own entry), since
// 10,000 decoded copies of a 10,000-peer view would not fit this machine.
// With -storm-digest=false nobody offers a digest: every reconnect takes the
// full view, as before digests existed.

type stormConfig struct {
	nodes, streams, refs, changes int
	digest                        bool
}

// wire counts the bytes the agents' connections read from the network
// (compressed, with WebSocket framing), as opposed to message bytes.
var wire atomic.Int64

type countingConn struct{ net.Conn }

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	wire.Add(int64(n))
	return n, err
}

var stormHTTP = &http.Client{Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c}, nil
	},
}}

// childServe runs a real server for the storm in this process until SIGTERM;
// SIGUSR1 makes it return freed memory to the OS and print "freed". As
// `netkeep serve` does, it listens and serves before starting (loading the
// network), so requests arriving meanwhile wait for it (--start-hold)
// instead of being refused; it prints "listening" once it listens and
// "ready" once started.
func childServe(dir, addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	keys, db, err := openStorm(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	bus := event.NewLocal()
	defer bus.Close()
	cfg := &config.Config{Listen: addr, DataDir: dir, LogLevel: "error", LogFormat: "text", MasterKey: benchMasterKey,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second, StartHold: 5 * time.Second, AccessTokenTTL: time.Hour, RefreshGrace: time.Minute}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	srv := server.New(server.Deps{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Keys: keys, Bus: bus})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	if err := srv.Start(ctx); err != nil {
		stop()
		<-served
		srv.Close()
		return err
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for i := 1; ; i++ {
			<-usr1
			debug.FreeOSMemory()
			if heapProfile != "" {
				if f, err := os.Create(fmt.Sprintf("%s.%d", heapProfile, i)); err == nil {
					_ = pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
			fmt.Println("freed")
		}
	}()
	fmt.Println("ready")
	err = <-served
	srv.Close()
	return err
}

// childProfile, when set, makes each server process write a CPU profile
// to it (suffixed .server1, .server2).
var (
	childProfile string
	childSeq     int
	// heapProfile, in a server process, is where each SIGUSR1 also writes
	// a heap profile (suffixed .1, .2, ...): the server's -cpuprofile plus ".heap".
	heapProfile string
)

// cpu returns the CPU time the child used so far (user and system).
func (c *child) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// openStorm opens the storm's keys and database in dir, for the bench and
// for its server processes alike.
func openStorm(ctx context.Context, dir string) (*secret.Keys, *store.DB, error) {
	keys, err := secret.Load(dir, "")
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, config.SQLite, filepath.Join(dir, "netkeep.db"))
	return keys, db, err
}

// child is one server process of the storm.
type child struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(dir, addr string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-storm-serve", dir, "-storm-addr", addr}
	if childProfile != "" {
		childSeq++
		args = append(args, "-cpuprofile", fmt.Sprintf("%s.server%d", childProfile, childSeq))
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c, c.expect("listening", 2*time.Minute)
}

func (c *child) expect(line string, within time.Duration) error {
	t := time.NewTimer(within)
	defer t.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return fmt.Errorf("server process ended before %q", line)
			}
			if l == line {
				return nil
			}
		case <-t.C:
			return fmt.Errorf("server process: no %q within %v", line, within)
		}
	}
}

// rss returns the child's resident memory after it returned what it could
// to the OS (free) or as it is.
func (c *child) rss(free bool) (int64, error) {
	if free {
		if err := c.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
			return 0, err
		}
		if err := c.expect("freed", time.Minute); err != nil {
			return 0, err
		}
	}
	return vmRSS(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
}

// settledRSS is rss after two more collections: the collector shrinks the
// stacks of goroutines that use less than a quarter of theirs by half at
// each, which a running server gets from its periodic collections.
func (c *child) settledRSS() (int64, error) {
	if _, err := c.rss(true); err != nil {
		return 0, err
	}
	return c.rss(true)
}

func (c *child) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	return c.cmd.Wait()
}

// stormClient is one agent's stream.
type stormClient struct {
	node   *mesh.Node
	token  string
	ref    *meshsim.Agent // nil: count only
	held   *meshwire.ViewDigest
	gen    atomic.Int64 // the server generation whose first message it has
	firstN atomic.Int64 // peers in that first message
	rxMsgs atomic.Int64
	lastAt atomic.Int64 // when the last message arrived, Unix ns
	rxB    atomic.Int64 // message bytes received
	txB    atomic.Int64 // digest header bytes sent
	err    atomic.Value
}

// run keeps the stream connected: on every end it reconnects after a short
// random wait (dials fail while the server is down), offering its digest.
func (c *stormClient) run(ctx context.Context, base string, generation *atomic.Int64, digest bool) {
	url := base + "/api/nodes/" + netid + "/" + c.node.MAC + "/stream"
	for ctx.Err() == nil {
		h := http.Header{"Authorization": {"Bearer " + c.token}}
		if digest {
			held := c.held
			if c.ref != nil {
				held, _ = c.ref.Digest()
			}
			if held != nil {
				h.Set(meshwire.HeaderView, held.String())
			}
		}
		gen := generation.Load()
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h, HTTPClient: stormHTTP})
		if err != nil {
			sleepJitter(ctx, 100*time.Millisecond)
			continue
		}
		if v := h.Get(meshwire.HeaderView); v != "" {
			c.txB.Add(int64(len(meshwire.HeaderView) + len(v) + 4))
		}
		conn.SetReadLimit(256 << 20)
		first := true
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				break
			}
			c.rxB.Add(int64(len(msg)))
			c.lastAt.Store(time.Now().UnixNano())
			c.rxMsgs.Add(1)
			if c.ref != nil {
				if err := c.ref.Apply(msg); err != nil {
					c.err.CompareAndSwap(nil, err)
				}
			}
			if first {
				first = false
				c.firstN.Store(int64(countPeers(msg)))
				c.gen.Store(gen)
			}
		}
		conn.CloseNow()
		sleepJitter(ctx, 100*time.Millisecond)
	}
}

// countPeers counts the peers of a full view or sync without decoding them.
func countPeers(msg []byte) int {
	var m struct {
		Peers []json.RawMessage `json:"peers"`
	}
	_ = json.Unmarshal(msg, &m)
	return len(m.Peers)
}

func sleepJitter(ctx context.Context, d time.Duration) {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(d))))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func runStorm(ctx context.Context, c stormConfig) error {
	dir, err := os.MkdirTemp("", "netkeep-storm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys, db, err := openStorm(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	nodes, err := seed(ctx, db, c.nodes)
	if err != nil {
		return err
	}
	signer := identity.NewSigner(keys.JWTKey(), 0, time.Now)
	tokens := mesh.NewService(store.For[mesh.Tx](db), nil, signer, keys)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "ws://" + addr
	var generation atomic.Int64
	generation.Store(1)
	srv, err := startChild(dir, addr)
	if err != nil {
		return err
	}
	defer func() { _ = srv.stop() }()
	if err := srv.expect("ready", 2*time.Minute); err != nil {
		return err
	}
	idle, err := srv.rss(true)
	if err != nil {
		return err
	}
	fmt.Printf("\n## Reconnect storm: %d streams, %d-node network, digests %v (real server in its own process, SQLite)\n", c.streams, c.nodes, c.digest)
	fmt.Printf("server RSS idle, no stream: %.1f MiB\n", mib(idle))

	clients := make([]*stormClient, c.streams)
	for i := range clients {
		tok, _, err := tokens.IssueNodeToken(nodes[i])
		if err != nil {
			return err
		}
		clients[i] = &stormClient{node: nodes[i], token: tok}
		if i < c.refs {
			clients[i].ref = meshsim.New()
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	connect := func(cs []*stormClient) {
		for _, cl := range cs {
			wg.Add(1)
			go func() { defer wg.Done(); cl.run(cctx, base, &generation, c.digest) }()
		}
	}
	// The reference agents first (full views); the others hold the same
	// network less their own entry.
	connect(clients[:c.refs])
	if err := waitGen(clients[:c.refs], 1, time.Minute); err != nil {
		return err
	}
	if c.digest {
		if err := lightDigests(clients, c.refs); err != nil {
			return err
		}
	}
	start := time.Now()
	connect(clients[c.refs:])
	if err := waitGen(clients, 1, 5*time.Minute); err != nil {
		return err
	}
	fmt.Printf("first connection of all (reference agents' full views excluded): %v\n", time.Since(start).Round(time.Millisecond))
	connected, err := srv.rss(true)
	if err != nil {
		return err
	}
	settled, err := srv.settledRSS()
	if err != nil {
		return err
	}
	fmt.Printf("server RSS with %d idle streams: %.1f MiB, %.1f KiB per stream; after two more collections (as an idle server does within minutes) %.1f MiB, %.1f KiB per stream\n",
		c.streams, mib(connected), float64(connected-idle)/1024/float64(c.streams), mib(settled), float64(settled-idle)/1024/float64(c.streams))

	// The restart.
	rx0, tx0, wire0 := sum(clients, func(c *stormClient) int64 { return c.rxB.Load() }), sum(clients, func(c *stormClient) int64 { return c.txB.Load() }), wire.Load()
	generation.Store(2)
	t0 := time.Now()
	if err := srv.stop(); err != nil && !isSignalExit(err) {
		return fmt.Errorf("stopping the server: %w", err)
	}
	stopped := time.Since(t0)
	changed, err := changeWhileDown(ctx, db, signer, keys, nodes[c.streams/2:], c.changes)
	if err != nil {
		return err
	}
	t1 := time.Now()
	if srv, err = startChild(dir, addr); err != nil {
		return err
	}
	listening := time.Since(t1)
	cpu0, own0 := srv.cpu(), processCPU()
	readyAt := make(chan time.Duration, 1)
	go func() {
		err := srv.expect("ready", 2*time.Minute)
		if err != nil {
			fmt.Println("new server:", err)
		}
		readyAt <- time.Since(t1)
	}()
	if err := waitGen(clients, 2, 5*time.Minute); err != nil {
		return err
	}
	all := time.Since(t1)
	ready := <-readyAt
	cpu, own := srv.cpu()-cpu0, processCPU()-own0
	rx := sum(clients, func(c *stormClient) int64 { return c.rxB.Load() }) - rx0
	tx := sum(clients, func(c *stormClient) int64 { return c.txB.Load() }) - tx0
	onWire := wire.Load() - wire0
	var resent int64
	for _, cl := range clients {
		resent += cl.firstN.Load()
	}
	fmt.Printf("restart: old server stopped in %v; %d nodes changed while down; new server listening %v after its start, ready %v after it\n",
		stopped.Round(time.Millisecond), changed, listening.Round(time.Millisecond), ready.Round(time.Millisecond))
	fmt.Printf("every stream holds its view from the new server %v after its start (%v after it listened); CPU meanwhile: server %v (%.0f µs per stream), the agents' side %v\n",
		all.Round(time.Millisecond), (all - listening).Round(time.Millisecond), cpu, float64(cpu.Microseconds())/float64(c.streams), own.Round(time.Millisecond))
	fmt.Printf("bytes: %.2f MB of messages received (%.0f B per stream; %.2f MB on the wire), %.2f MB of digests sent; %d peer entries resent (%.1f per stream)\n",
		float64(rx)/1e6, float64(rx)/float64(c.streams), float64(onWire)/1e6, float64(tx)/1e6, resent, float64(resent)/float64(c.streams))
	if err := checkRefs(ctx, clients[:c.refs], base); err != nil {
		return err
	}
	if err := joinDelivered(ctx, clients, "http"+strings.TrimPrefix(base, "ws"), c.nodes); err != nil {
		return err
	}
	connected2, err := srv.settledRSS()
	if err != nil {
		return err
	}
	fmt.Printf("new server RSS with %d streams after the storm and the joins (settled): %.1f MiB (%.1f KiB per stream)\n", c.streams, mib(connected2), float64(connected2-idle)/1024/float64(c.streams))

	cancel()
	wg.Wait()
	raw, err := srv.rss(false)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	var freed int64
	for time.Now().Before(deadline) { // the server notices closed connections on its own
		if freed, err = srv.rss(true); err != nil {
			return err
		}
		if freed < idle+(connected2-idle)/4 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("after every stream went: RSS %.1f MiB as is, %.1f MiB once freed memory is returned (idle was %.1f)\n", mib(raw), mib(freed), mib(idle))
	for _, cl := range clients {
		if err, _ := cl.err.Load().(error); err != nil {
			return fmt.Errorf("agent of node %d: %w", cl.node.ID, err)
		}
	}
	return nil
}

// lightDigests gives every count-only client the digest of the view it
// would hold: the network's (from two reference agents, each missing only
// itself) less its own entry.
func lightDigests(clients []*stormClient, refs int) error {
	if refs < 2 {
		return errors.New("-storm-refs must be at least 2 with digests")
	}
	a, b := clients[0], clients[1]
	entry := func(id int64) (uint64, bool) {
		if p, ok := a.ref.Peer(id); ok {
			return meshwire.DigestOf(p), true
		}
		if p, ok := b.ref.Peer(id); ok {
			return meshwire.DigestOf(p), true
		}
		return 0, false
	}
	net, ok := a.ref.Digest()
	if !ok {
		return errors.New("reference agent without a view")
	}
	own, ok := entry(a.node.ID)
	if !ok {
		return errors.New("reference agents do not see each other")
	}
	net.Sums.Add(meshwire.BucketOf(a.node.ID), own)
	for _, cl := range clients[refs:] {
		d, ok := entry(cl.node.ID)
		if !ok {
			return fmt.Errorf("node %d is in no reference view", cl.node.ID)
		}
		held := *net
		held.Sums.Remove(meshwire.BucketOf(cl.node.ID), d)
		cl.held = &held
	}
	return nil
}

// changeWhileDown changes the endpoint of n nodes through the mesh service
// while no server runs.
func changeWhileDown(ctx context.Context, db *store.DB, signer *identity.Signer, keys *secret.Keys, nodes []*mesh.Node, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	svc := mesh.NewService(store.For[mesh.Tx](db), nil, signer, keys, mesh.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := svc.Start(ctx); err != nil {
		return 0, err
	}
	defer svc.Close()
	for i := range min(n, len(nodes)) {
		ep := fmt.Sprintf("203.0.113.%d", i%250+1)
		if _, err := svc.UpdateNode(ctx, master, src, netid, nodes[i*len(nodes)/n].MAC, mesh.NodePatch{Endpoint: &ep}); err != nil {
			return i, err
		}
	}
	return n, nil
}

// checkRefs compares each reference agent's peers with the server's view of
// its node (GET .../peers).
func checkRefs(ctx context.Context, refs []*stormClient, base string) error {
	httpBase := "http" + strings.TrimPrefix(base, "ws")
	for _, cl := range refs {
		req, _ := http.NewRequestWithContext(ctx, "GET", httpBase+"/api/nodes/"+netid+"/"+cl.node.MAC+"/peers", nil)
		req.Header.Set("Authorization", "Bearer "+cl.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var peers []meshwire.Peer
		err = json.NewDecoder(res.Body).Decode(&peers)
		res.Body.Close()
		if err != nil {
			return err
		}
		var want meshwire.BucketSums
		for _, p := range peers {
			want.Add(meshwire.BucketOf(p.ID), meshwire.DigestOf(p))
		}
		got, ok := cl.ref.Digest()
		if !ok || got.Sums != want || cl.ref.Len() != len(peers) {
			return fmt.Errorf("reference agent of node %d holds %d peers, the server's view has %d (or they differ)", cl.node.ID, cl.ref.Len(), len(peers))
		}
	}
	fmt.Printf("check: %d reference agents hold exactly the server's view after the storm\n", len(refs))
	return nil
}

// joinDelivered joins a node through the API (master key) and reports when
// its upsert reached the streams, five times.
func joinDelivered(ctx context.Context, cs []*stormClient, httpBase string, n int) error {
	var p50s, p99s, alls []time.Duration
	for i := range 5 {
		before := make([]int64, len(cs))
		for j, c := range cs {
			before[j] = c.rxMsgs.Load()
		}
		body := fmt.Sprintf(`{"macaddress":%q,"publickey":%q}`, macOf(n+1_000_000+i), randomKey())
		req, _ := http.NewRequestWithContext(ctx, "POST", httpBase+"/api/nodes/"+netid, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+benchMasterKey)
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("joining through the API: %s", res.Status)
		}
		deadline := time.Now().Add(time.Minute)
		lat := make([]time.Duration, 0, len(cs))
		for j, c := range cs {
			for c.rxMsgs.Load() <= before[j] {
				if time.Now().After(deadline) {
					return fmt.Errorf("stream of node %d did not get the join", c.node.ID)
				}
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Duration(c.lastAt.Load()-t0.UnixNano()))
		}
		p50s, p99s, alls = append(p50s, pct(lat, 50)), append(p99s, pct(lat, 99)), append(alls, pct(lat, 100))
	}
	fmt.Printf("a join through the API delivered over every WebSocket stream (median of 5): p50 %v, p99 %v, all %d %v\n",
		pct(p50s, 50), pct(p99s, 50), len(cs), pct(alls, 50))
	return nil
}

func waitGen(cs []*stormClient, gen int64, within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, c := range cs {
		for c.gen.Load() < gen {
			if time.Now().After(deadline) {
				return fmt.Errorf("stream of node %d did not get its first message from server %d", c.node.ID, gen)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return nil
}

func sum(cs []*stormClient, f func(*stormClient) int64) int64 {
	var n int64
	for _, c := range cs {
		n += f(c)
	}
	return n
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}
