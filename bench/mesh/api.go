package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store/pgbus"
)

const benchMasterKey = "bench-master-key-0123456789abcdefghijklmnop"

// runJoinRate starts a real server on a loopback port over a fresh database
// and has workers join nodes through POST /api/nodes/{network} with an
// access key, as agents do; it reports nodes registered per second. With a
// password each join also hashes it with the production argon2id cost.
func runJoinRate(ctx context.Context, kind, pgURL string, joins, workers int, withPassword bool) error {
	db, dir, cleanup, err := openDB(ctx, kind, pgURL)
	if err != nil {
		return err
	}
	defer cleanup()
	keys, err := secret.Derive(randomBytes(32))
	if err != nil {
		return err
	}
	var bus event.Bus = event.NewLocal()
	if kind == "postgres" {
		if bus, err = pgbus.New(ctx, pgURL, pgbus.WithChannel("bench_"+fmt.Sprint(time.Now().UnixNano()))); err != nil {
			return err
		}
	}
	defer bus.Close()
	cfg := &config.Config{Listen: "127.0.0.1:0", DataDir: dir, LogLevel: "error", LogFormat: "text", MasterKey: benchMasterKey,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second, AccessTokenTTL: time.Hour, RefreshGrace: time.Minute}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := server.New(server.Deps{Config: cfg, Logger: logger, DB: db, Keys: keys, Bus: bus})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := srv.Start(sctx); err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-served }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: time.Minute}

	g, err := srv.Identity.CreateGroup(ctx, master, src, "bench")
	if err != nil {
		return err
	}
	call := func(method, path string, body any, auth bool) (map[string]any, int, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+benchMasterKey)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return out, res.StatusCode, nil
	}
	if _, st, err := call("POST", "/api/networks", map[string]any{"netid": "rate", "addressrange": "10.0.0.0/16", "group_id": g.ID}, true); err != nil || st != 200 {
		return fmt.Errorf("creating the network: %d %v", st, err)
	}
	k, st, err := call("POST", "/api/networks/rate/keys", map[string]any{"uses": joins}, true)
	if err != nil || st != 200 {
		return fmt.Errorf("creating the key: %d %v", st, err)
	}
	key := k["value"].(string)

	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= joins {
					return
				}
				body := map[string]any{"accesskey": key, "macaddress": macOf(i), "publickey": randomKey(), "endpoint": "198.51.100.7", "listenport": 51821}
				if withPassword {
					body["password"] = fmt.Sprint("agent-generated-password-", i)
				}
				if out, st, err := call("POST", "/api/nodes/rate", body, false); err != nil || st != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %v %v", st, out, err))
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if f := failed.Load(); f > 0 {
		return errors.New(fmt.Sprint(f, " joins failed; first: ", firstErr.Load()))
	}
	pw := "without password"
	if withPassword {
		pw = "with password (argon2id, production cost)"
	}
	fmt.Printf("\n## Join rate through the API (%s, %s): %d joins by %d concurrent clients in %v: %.0f nodes/s\n",
		kind, pw, joins, workers, d.Round(time.Millisecond), float64(joins)/d.Seconds())
	return nil
}
