package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store/pgbus"
)

const benchMasterKey = "bench-master-key-0123456789abcdefghijklmnop"

// Node passwords of the join rate.
const (
	noPassword      = ""
	machinePassword = "machine" // what the agent sends (crypto/rand.Text): a keyed hash
	humanPassword   = "human"   // a short one a person chose: argon2id at production cost
)

// runJoinRate starts a real server on a loopback port over a fresh database
// holding a network of base nodes and has workers join nodes to it through
// POST /api/nodes/{network} with an access key, as agents do; it reports
// nodes registered per second and the process's peak resident memory
// above what it was before the burst.
func runJoinRate(ctx context.Context, kind, pgURL string, base, joins, workers int, password string) error {
	db, dir, cleanup, err := openDB(ctx, kind, pgURL)
	if err != nil {
		return err
	}
	defer cleanup()
	if _, err := seed(ctx, db, base); err != nil {
		return err
	}
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
	baseURL := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: time.Minute}

	call := func(method, path string, body any, auth bool) (map[string]any, int, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, baseURL+path, bytes.NewReader(b))
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
	k, st, err := call("POST", "/api/networks/"+netid+"/keys", map[string]any{"uses": joins}, true)
	if err != nil || st != 200 {
		return fmt.Errorf("creating the key: %d %v", st, err)
	}
	key := k["value"].(string)

	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	runtime.GC()
	debug.FreeOSMemory()
	rss0 := selfRSS()
	peak := peakRSS(rss0)
	cpu0 := processCPU()
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
				body := map[string]any{"accesskey": key, "macaddress": macOf(base + i), "publickey": randomKey(), "endpoint": "198.51.100.7", "listenport": 51821}
				switch password {
				case machinePassword:
					body["password"] = rand.Text()
				case humanPassword:
					body["password"] = fmt.Sprintf("hunter%04d", i%10000)
				}
				if out, st, err := call("POST", "/api/nodes/"+netid, body, false); err != nil || st != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %v %v", st, out, err))
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	cpu := processCPU() - cpu0
	top := peak()
	if f := failed.Load(); f > 0 {
		return errors.New(fmt.Sprint(f, " joins failed; first: ", firstErr.Load()))
	}
	pw := map[string]string{noPassword: "without password", machinePassword: "machine password (rand.Text, keyed hash)",
		humanPassword: "short human password (argon2id, production cost)"}[password]
	fmt.Printf("\n## Join rate through the API (%s, %s) into a %d-node network: %d joins by %d concurrent clients in %v: %.0f nodes/s; CPU %.0f µs per join (server and clients); peak RSS %.1f MiB above the %.1f MiB before\n",
		kind, pw, base, joins, workers, d.Round(time.Millisecond), float64(joins)/d.Seconds(), float64(cpu.Microseconds())/float64(joins), mib(top-rss0), mib(rss0))
	return nil
}

// processCPU is the CPU time this process used so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfRSS is this process's resident memory.
func selfRSS() int64 {
	n, _ := vmRSS("/proc/self/status")
	return n
}

// vmRSS reads the resident memory from a /proc/<pid>/status file.
func vmRSS(status string) (int64, error) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in " + status)
}

// peakRSS samples selfRSS every 20 ms until the returned function is
// called, which returns the highest sample.
func peakRSS(from int64) func() int64 {
	var top atomic.Int64
	top.Store(from)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if r := selfRSS(); r > top.Load() {
				top.Store(r)
			}
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() int64 { close(done); <-stopped; return top.Load() }
}
