package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/secret"
	"netkeep/internal/store"
)

type scaleConfig struct {
	nodes, subscribers, agents, changes int
	idle                                time.Duration
}

var (
	master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	src    = audit.Source{Actor: "bench"}
)

const netid = "scale"

func runScale(ctx context.Context, c scaleConfig) error {
	db, _, cleanup, err := openDB(ctx, "sqlite", "")
	if err != nil {
		return err
	}
	defer cleanup()
	seeded, err := seed(ctx, db, c.nodes)
	if err != nil {
		return err
	}

	keys, err := secret.Derive(randomBytes(32))
	if err != nil {
		return err
	}
	signer := identity.NewSigner(keys.JWTKey(), 0, time.Now)
	bus := event.NewLocal()
	defer bus.Close()
	svc := mesh.NewService(store.For[mesh.Tx](db), bus, signer, keys,
		mesh.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))

	heap0 := memInUse()
	start := time.Now()
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Close()
	load := time.Since(start)
	heap1 := memInUse()
	fmt.Printf("\n## State: %d nodes\n", c.nodes)
	fmt.Printf("load from the store at start: %v (%.0f nodes/s)\n", load.Round(time.Millisecond), float64(c.nodes)/load.Seconds())
	fmt.Printf("memory per node (heap after GC): %.0f B (%.1f MB in all); process RSS %.1f MiB\n", float64(heap1-heap0)/float64(c.nodes), float64(heap1-heap0)/1e6, mib(freedRSS()))

	viewTimes(ctx, svc, seeded)

	// Subscribers: every -subscribers node connects; -agents of them decode
	// and apply everything (attached last, so their peer tables are counted
	// apart).
	cctx, cancel := context.WithCancel(ctx)
	cons := &consumers{cancel: cancel}
	defer cons.stop()
	counting := c.subscribers - min(c.agents, c.subscribers)
	if err := cons.subscribe(cctx, svc, seeded[:counting], false); err != nil {
		return err
	}
	mem2 := memInUse()
	if err := cons.subscribe(cctx, svc, seeded[counting:c.subscribers], true); err != nil {
		return err
	}
	mem3 := memInUse()
	fmt.Printf("\n## %d subscribers\n", c.subscribers)
	fmt.Printf("subscribing all (each takes its full view): %v\n", cons.attachTime.Round(time.Millisecond))
	fmt.Printf("memory per subscriber (pushed stream and its consumer): %.0f B; per decoding agent (holding %d peers): %.0f kB; goroutines: %d; process RSS %.1f MiB\n",
		float64(mem2-heap1)/float64(max(counting, 1)), c.nodes-1, float64(mem3-mem2)/float64(max(c.subscribers-counting, 1))/1e3, runtime.NumGoroutine(), mib(freedRSS()))
	if err := cons.settle(30 * time.Second); err != nil {
		return err
	}

	idleCPU(c.idle)

	fmt.Printf("\n## Changes, each delivered to every subscriber (median of %d)\n", c.changes)
	var joins, leaves []changeResult
	for i := range c.changes {
		r, n, err := cons.measure(svc, func() (*mesh.Node, error) {
			n, _, err := svc.Join(ctx, master, src, netid, mesh.JoinFields{MAC: macOf(c.nodes + i), PublicKey: randomKey()})
			return n, err
		}, nil)
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		joins = append(joins, r)
		// The leave removes a subscribed node: its own stream ends, every
		// other one gets the removal.
		victim := seeded[c.subscribers-1-i]
		r, _, err = cons.measure(svc, func() (*mesh.Node, error) {
			return victim, svc.DeleteNode(ctx, master, src, netid, victim.MAC)
		}, victim)
		if err != nil {
			return fmt.Errorf("leave: %w", err)
		}
		leaves = append(leaves, r)
		_ = n
	}
	report("join", joins)
	report("leave", leaves)
	fmt.Printf("process RSS at the end: %.1f MiB (%.1f MiB once freed memory is returned)\n", mib(selfRSS()), mib(freedRSS()))
	return cons.check()
}

// seed stores n approved nodes directly, in batches, as if they had joined
// one after the other over the last n seconds.
func seed(ctx context.Context, db *store.DB, n int) ([]*mesh.Node, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	first := now.Add(-time.Duration(n) * time.Second)
	g := &identity.Group{Name: "bench"}
	net := &mesh.Network{NetID: netid, DisplayName: netid, AddressRange: netip.MustParsePrefix("10.0.0.0/8"),
		AddressRange6: netip.MustParsePrefix("fd00:5ca1:e::/64"), DefaultListenPort: 51821, DefaultKeepalive: 20,
		DefaultInterface: "nk-scale", CheckInInterval: 30, KeyUpdateAt: now, NodesModifiedAt: now, ModifiedAt: now,
		CreatedAt: now, Revision: 1}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		net.GroupID = g.ID
		return tx.CreateNetwork(ctx, net)
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	nodes := make([]*mesh.Node, n)
	a4 := net.AddressRange.Addr()
	a6 := net.AddressRange6.Addr()
	for lo := 0; lo < n; lo += 2000 {
		hi := min(lo+2000, n)
		err := store.For[mesh.Tx](db).InTx(ctx, func(tx mesh.Tx) error {
			for i := lo; i < hi; i++ {
				a4, a6 = a4.Next(), a6.Next()
				nd := &mesh.Node{NetworkID: net.ID, GroupID: g.ID, Network: netid, MAC: macOf(i), Name: fmt.Sprintf("node-%d", i),
					PublicKey: randomKey(), Endpoint: fmt.Sprintf("198.%d.%d.%d", 18+i>>16&1, i>>8&0xff, i&0xff), ListenPort: 51821,
					Address: a4, Address6: a6, PersistentKeepalive: 20, Interface: "nk-scale", KeyUpdateAt: now,
					CreatedAt: first.Add(time.Duration(i) * time.Second), ModifiedAt: first.Add(time.Duration(i) * time.Second), Revision: 1}
				if err := tx.CreateNode(ctx, nd, mesh.NodeSecrets{}); err != nil {
					return err
				}
				nodes[i] = nd
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	fmt.Printf("(seeded %d nodes into SQLite in %v)\n", n, time.Since(start).Round(time.Millisecond))
	return nodes, nil
}

// viewTimes measures one node's complete view (GET .../peers, a stream's
// first message): warm (the network's snapshot is shared and current) and
// right after a change (the snapshot is rebuilt first).
func viewTimes(ctx context.Context, svc *mesh.Service, nodes []*mesh.Node) {
	var buf []byte
	sample := func(n int, change bool) []time.Duration {
		var ds []time.Duration
		for i := range n {
			nd := nodes[(i*7919)%len(nodes)]
			if change {
				ep := fmt.Sprintf("203.0.113.%d", i%250)
				if _, err := svc.UpdateNode(ctx, master, src, netid, nodes[0].MAC, mesh.NodePatch{Endpoint: &ep}); err != nil {
					panic(err)
				}
			}
			start := time.Now()
			v, err := svc.Peers(ctx, master, netid, nd.MAC)
			if err != nil {
				panic(err)
			}
			buf = v.AppendTo(buf[:0])
			ds = append(ds, time.Since(start))
		}
		return ds
	}
	warm, cold := sample(200, false), sample(50, true)
	fmt.Printf("one node's full view, %d peers, %.1f MB JSON: median %v (p99 %v) warm; median %v just after a change\n",
		len(nodes)-1, float64(len(buf))/1e6, pct(warm, 50), pct(warm, 99), pct(cold, 50))
}

// consumers are the simulated agents on the streams.
type consumers struct {
	list       []*consumer
	attachTime time.Duration
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

type consumer struct {
	node   *mesh.Node
	stream *mesh.Stream
	agent  *meshsim.Agent // nil: count messages and check their order only
	count  atomic.Int64
	lastAt atomic.Int64 // when the last message arrived, Unix ns
	last   uint64       // seq of the last message (pushed consumers)
	err    error
}

// subscribe connects a stream for each of nodes and starts its consumer;
// decode makes the consumers full simulated agents.
func (cs *consumers) subscribe(ctx context.Context, svc *mesh.Service, nodes []*mesh.Node, decode bool) error {
	start := time.Now()
	for _, n := range nodes {
		tok, _, err := svc.IssueNodeToken(n)
		if err != nil {
			return err
		}
		p, err := svc.AuthenticateNodeToken(ctx, tok)
		if err != nil {
			return err
		}
		s, err := svc.Subscribe(ctx, p, netid, n.MAC)
		if err != nil {
			return err
		}
		c := &consumer{node: n, stream: s}
		if decode {
			c.agent = meshsim.New()
		}
		cs.list = append(cs.list, c)
		if !decode {
			c.push()
			continue
		}
		cs.wg.Add(1)
		go func() {
			defer cs.wg.Done()
			c.err = c.run(ctx)
		}()
	}
	cs.attachTime += time.Since(start)
	return nil
}

// push consumes the stream as the WebSocket transport does: no goroutine
// while idle, a short-lived one draining the stream when the mesh says
// messages may be waiting (mesh.Stream.Push).
func (c *consumer) push() {
	c.last = c.stream.Full().Seq
	var busy, pending atomic.Bool
	drain := func() {
		for {
			pending.Store(false)
			for {
				msg, _, err := c.stream.TryNext()
				if err != nil || msg == nil {
					break
				}
				seq := seqOf(msg)
				if seq <= c.last && c.err == nil {
					c.err = fmt.Errorf("seq %d after %d", seq, c.last)
				}
				c.last = seq
				c.lastAt.Store(time.Now().UnixNano())
				c.count.Add(1)
			}
			busy.Store(false)
			if !pending.Load() || !busy.CompareAndSwap(false, true) {
				return
			}
		}
	}
	c.stream.Push(func() {
		pending.Store(true)
		if busy.CompareAndSwap(false, true) {
			go drain()
		}
	})
}

func (c *consumer) run(ctx context.Context) error {
	v := c.stream.Full()
	var last uint64
	if c.agent != nil {
		if err := c.agent.Apply(v.AppendTo(nil)); err != nil {
			return err
		}
	} else {
		last = v.Seq
		_ = v.Peers()
	}
	v = nil
	for {
		msg, err := c.stream.Next(ctx)
		if errors.Is(err, mesh.ErrStreamEnded) || errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.agent != nil {
			if err := c.agent.Apply(msg); err != nil {
				return err
			}
		} else {
			seq := seqOf(msg)
			if seq <= last {
				return fmt.Errorf("seq %d after %d", seq, last)
			}
			last = seq
		}
		c.lastAt.Store(time.Now().UnixNano())
		c.count.Add(1)
	}
}

// seqOf reads "seq" from a message's fixed prefix {"type":"...","seq":N.
func seqOf(msg []byte) uint64 {
	i := bytes.Index(msg, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	j := i + 6
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseUint(string(msg[i+6:j]), 10, 64)
	return n
}

// settle waits until every consumer has applied its full view and nothing
// moves.
func (cs *consumers) settle(within time.Duration) error {
	deadline := time.Now().Add(within)
	var prev int64 = -1
	for time.Now().Before(deadline) {
		var sum int64
		for _, c := range cs.list {
			sum += c.count.Load()
		}
		if sum == prev {
			return nil
		}
		prev = sum
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("consumers did not settle")
}

type changeResult struct {
	call, apply, all, p50, p99 time.Duration
}

// measure runs one change and waits until every live subscriber but skip's
// has received its message.
func (cs *consumers) measure(svc *mesh.Service, change func() (*mesh.Node, error), skip *mesh.Node) (changeResult, *mesh.Node, error) {
	before := make([]int64, len(cs.list))
	for i, c := range cs.list {
		before[i] = c.count.Load()
	}
	st0 := svc.Stats()
	t0 := time.Now()
	n, err := change()
	call := time.Since(t0)
	if err != nil {
		return changeResult{}, nil, err
	}
	st1 := svc.Stats()
	deadline := time.Now().Add(60 * time.Second)
	var lat []time.Duration
	for i, c := range cs.list {
		if skip != nil && c.node.ID == skip.ID || c.stream.Reason() == mesh.EndDeleted {
			continue // the node that left, and those that left before
		}
		for c.count.Load() <= before[i] {
			if time.Now().After(deadline) {
				return changeResult{}, nil, fmt.Errorf("node %d did not receive the change (consumer: %v, stream ended: %v)", c.node.ID, c.err, c.stream.Reason())
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Duration(c.lastAt.Load()-t0.UnixNano()))
	}
	r := changeResult{call: call, p50: pct(lat, 50), p99: pct(lat, 99), all: slices.Max(lat)}
	if d := st1.Applied - st0.Applied; d > 0 {
		r.apply = (st1.ApplyTotal - st0.ApplyTotal) / time.Duration(d)
	}
	return r, n, nil
}

func (cs *consumers) stop() {
	cs.cancel()
	cs.wg.Wait()
	for _, c := range cs.list {
		if c.agent == nil {
			c.stream.Close()
		}
	}
}

func (cs *consumers) check() error {
	cs.stop()
	agents := 0
	for _, c := range cs.list {
		if c.err != nil {
			return fmt.Errorf("subscriber of node %d: %w", c.node.ID, c.err)
		}
		if c.agent != nil {
			agents++
		}
	}
	fmt.Printf("protocol check: %d subscribers saw strictly increasing seq; %d decoding agents applied every message without error\n", len(cs.list), agents)
	return nil
}

func report(what string, rs []changeResult) {
	med := func(get func(changeResult) time.Duration) time.Duration {
		ds := make([]time.Duration, len(rs))
		for i, r := range rs {
			ds[i] = get(r)
		}
		return pct(ds, 50)
	}
	fmt.Printf("%s: API call (store transaction + apply) %v; applied to the state and fanned out %v; delivered: p50 %v, p99 %v, all subscribers %v\n",
		what, med(func(r changeResult) time.Duration { return r.call }), med(func(r changeResult) time.Duration { return r.apply }),
		med(func(r changeResult) time.Duration { return r.p50 }), med(func(r changeResult) time.Duration { return r.p99 }),
		med(func(r changeResult) time.Duration { return r.all }))
}

// idleCPU measures the process's CPU use while nothing changes, after the
// collector has finished with the garbage of the connections' full views.
func idleCPU(d time.Duration) {
	runtime.GC()
	time.Sleep(2 * time.Second)
	var a, b syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &a)
	start := time.Now()
	time.Sleep(d)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &b)
	cpu := time.Duration(b.Utime.Nano()+b.Stime.Nano()-a.Utime.Nano()-a.Stime.Nano()) * time.Nanosecond
	wall := time.Since(start)
	fmt.Printf("idle CPU with every subscriber connected: %v over %v (%.2f%% of one core)\n", cpu.Round(time.Millisecond), wall.Round(time.Second), 100*cpu.Seconds()/wall.Seconds())
}

// freedRSS is selfRSS after the collector returned what it could to the OS.
func freedRSS() int64 {
	debug.FreeOSMemory()
	return selfRSS()
}

// memInUse is the heap and goroutine stacks in use, after a collection.
func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return s[i].Round(time.Microsecond)
}

func macOf(i int) string {
	return fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", i>>24&0xff, i>>16&0xff, i>>8&0xff, i&0xff)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// randomKey is a public key: any 32 bytes are one as far as the control
// plane is concerned, and they are much cheaper than a curve operation.
func randomKey() string {
	var k [32]byte
	copy(k[:], randomBytes(32))
	k[0] |= 1
	return base64.StdEncoding.EncodeToString(k[:])
}
