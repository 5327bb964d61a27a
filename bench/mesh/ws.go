package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/mesh"
	"netkeep/internal/secret"
	"netkeep/internal/server"
)

// runWebSockets serves a network of n nodes from a real server on loopback
// and connects conns of them to GET .../stream over WebSockets, as agents
// do; it times how long a join takes to reach every connection.
func runWebSockets(ctx context.Context, n, conns, changes int) error {
	db, dir, cleanup, err := openDB(ctx, "sqlite", "")
	if err != nil {
		return err
	}
	defer cleanup()
	nodes, err := seed(ctx, db, n)
	if err != nil {
		return err
	}
	keys, err := secret.Derive(randomBytes(32))
	if err != nil {
		return err
	}
	bus := event.NewLocal()
	defer bus.Close()
	cfg := &config.Config{Listen: "127.0.0.1:0", DataDir: dir, LogLevel: "error", LogFormat: "text", MasterKey: benchMasterKey,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second, AccessTokenTTL: time.Hour, RefreshGrace: time.Minute}
	srv := server.New(server.Deps{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Keys: keys, Bus: bus})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := srv.Start(sctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { srv.Close(); stop(); <-served }()
	base := "ws://" + ln.Addr().String()

	type client struct {
		count  atomic.Int64
		lastAt atomic.Int64
	}
	clients := make([]*client, conns)
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	start := time.Now()
	var fullBytes atomic.Int64
	sem := make(chan struct{}, 32)
	errs := make(chan error, conns)
	for i := range conns {
		tok, _, err := srv.Mesh.IssueNodeToken(nodes[i])
		if err != nil {
			return err
		}
		cl := &client{}
		clients[i] = cl
		sem <- struct{}{}
		c, _, err := websocket.Dial(cctx, base+"/api/nodes/"+netid+"/"+nodes[i].MAC+"/stream",
			&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		c.SetReadLimit(256 << 20)
		_, full, err := c.Read(cctx) // the full view
		<-sem
		if err != nil {
			return fmt.Errorf("connection %d: full view: %w", i, err)
		}
		fullBytes.Add(int64(len(full)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.CloseNow()
			for {
				if _, _, err := c.Read(cctx); err != nil {
					if cctx.Err() == nil {
						errs <- err
					}
					return
				}
				cl.lastAt.Store(time.Now().UnixNano())
				cl.count.Add(1)
			}
		}()
	}
	fmt.Printf("\n## %d WebSocket streams on loopback, %d-node network (real server, SQLite)\n", conns, n)
	fmt.Printf("connecting all and reading their full views (%.1f MB each): %v\n",
		float64(fullBytes.Load())/float64(conns)/1e6, time.Since(start).Round(time.Millisecond))

	var alls, p50s []time.Duration
	for i := range changes {
		before := make([]int64, conns)
		for j, cl := range clients {
			before[j] = cl.count.Load()
		}
		t0 := time.Now()
		if _, _, err := srv.Mesh.Join(ctx, master, src, netid, mesh.JoinFields{MAC: macOf(n + 1_000_000 + i), PublicKey: randomKey()}); err != nil {
			return err
		}
		deadline := time.Now().Add(60 * time.Second)
		lat := make([]time.Duration, 0, conns)
		for j, cl := range clients {
			for cl.count.Load() <= before[j] {
				select {
				case err := <-errs:
					return fmt.Errorf("a stream failed: %w", err)
				default:
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("stream %d did not receive the join", j)
				}
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Duration(cl.lastAt.Load()-t0.UnixNano()))
		}
		alls = append(alls, slices.Max(lat))
		p50s = append(p50s, pct(lat, 50))
	}
	fmt.Printf("a join delivered over WebSockets (median of %d): p50 %v, all %d streams %v\n", changes, pct(p50s, 50), conns, pct(alls, 50))
	return nil
}
