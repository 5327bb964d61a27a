package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store"
)

const masterKey = "bench-master-key-0123456789abcdefghijklmnop"

// report is one line of the subscribers' process.
type report struct {
	Ready   int     `json:"ready,omitempty"`
	Failed  int     `json:"failed,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`

	Seq        int   `json:"seq"`
	Received   int   `json:"received,omitempty"`
	ReachedAll int64 `json:"reachedAll,omitempty"` // ns from posting to the last subscriber's receipt
	P50        int64 `json:"p50,omitempty"`        // ns, per subscriber
	P99        int64 `json:"p99,omitempty"`
	CPU        int64 `json:"cpu,omitempty"` // ns of CPU the subscribers' process has used so far
}

func runServer(conns, events, users int, profile string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "netkeep-bench-ws-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, config.SQLite, filepath.Join(dir, "netkeep.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	root := make([]byte, 32)
	copy(root, "bench-ws-root-secret-0123456789")
	keys, err := secret.Derive(root)
	if err != nil {
		return err
	}
	bus := event.NewLocal()
	defer bus.Close()
	cfg := &config.Config{Listen: "127.0.0.1:0", DataDir: dir, LogLevel: "error", LogFormat: "text", MasterKey: masterKey,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 5 * time.Second, AccessTokenTTL: time.Hour, RefreshGrace: time.Minute,
		NekzusAuthLimit: max(users, 10)} // every user signs in from this one address
	srv := server.New(server.Deps{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Keys: keys, Bus: bus,
		PasswordParams: identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err := srv.Start(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served; srv.Close() }()
	base := "http://" + ln.Addr().String()

	tokens, err := login(ctx, srv, base, users)
	if err != nil {
		return err
	}
	heap0, stack0, rss0, g0 := memory()

	child := exec.Command(os.Args[0], "-client", base, "-conns", strconv.Itoa(conns))
	child.Stderr = os.Stderr
	child.Stdin = strings.NewReader(strings.Join(tokens, "\n") + "\n")
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	lines := bufio.NewScanner(out)
	next := func() (report, error) {
		if !lines.Scan() {
			return report{}, fmt.Errorf("subscribers' process ended: %v", lines.Err())
		}
		var r report
		return r, json.Unmarshal(lines.Bytes(), &r)
	}
	ready, err := next()
	if err != nil {
		return err
	}
	open := srv.Live.Connections()
	heap1, stack1, rss1, g1 := memory()
	n := float64(max(open, 1))
	fmt.Printf("subscribers: %d connected and authenticated in %.1fs (%d failed); hub holds %d\n",
		ready.Ready, ready.Seconds, ready.Failed, open)
	fmt.Printf("server memory per idle connection: heap %.1f KiB + stacks %.1f KiB = %.1f KiB (Go runtime); RSS growth %.1f KiB; goroutines %.2f\n",
		float64(heap1-heap0)/1024/n, float64(stack1-stack0)/1024/n, float64(heap1+stack1-heap0-stack0)/1024/n,
		float64(rss1-rss0)/1024/n, float64(g1-g0)/n)

	var reach, p50, p99 []time.Duration
	var childCPU0, childCPU1 int64
	serverCPU0 := cpuTime()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	for seq := 1; seq <= events; seq++ {
		body, _ := json.Marshal(map[string]any{"type": "bench", "data": map[string]any{"seq": seq, "sentAt": time.Now().UnixNano()}})
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/webhooks/notify", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+masterKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("notify: %s", res.Status)
		}
		r, err := next()
		if err != nil {
			return err
		}
		if r.Seq != seq || r.Received != ready.Ready {
			return fmt.Errorf("event %d: %d of %d subscribers got it (report for %d)", seq, r.Received, ready.Ready, r.Seq)
		}
		if seq == 1 {
			childCPU0 = r.CPU
		}
		childCPU1 = r.CPU
		reach = append(reach, time.Duration(r.ReachedAll))
		p50, p99 = append(p50, time.Duration(r.P50)), append(p99, time.Duration(r.P99))
	}
	slices.Sort(reach)
	slices.Sort(p50)
	slices.Sort(p99)
	fmt.Printf("time for one event to reach all %d subscribers over %d events: p50 %v, p99 %v, max %v\n",
		ready.Ready, events, pct(reach, 50), pct(reach, 99), reach[len(reach)-1])
	fmt.Printf("per-subscriber delivery latency: median of the events' p50 %v, worst event's p99 %v\n",
		pct(p50, 50), p99[len(p99)-1])
	if events > 1 {
		fmt.Printf("CPU per event (load-independent): server %v, subscribers' process %v\n",
			(cpuTime()-serverCPU0)/time.Duration(events), time.Duration(childCPU1-childCPU0)/time.Duration(events-1))
	}
	fmt.Printf("slow consumers dropped: %d\n", srv.Live.SlowConsumers())
	return nil
}

// login creates users GROUP_ADMINs of the default group and returns an
// access token of each.
func login(ctx context.Context, srv *server.Server, base string, users int) ([]string, error) {
	gid, err := srv.Identity.DefaultGroupID(ctx)
	if err != nil {
		return nil, err
	}
	master := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	var tokens []string
	for i := range users {
		name := fmt.Sprintf("bench-%d", i)
		if _, err := srv.Identity.CreateUser(ctx, master, audit.Source{Actor: "bench"}, identity.NewUser{
			Username: name, Email: name + "@example.com", Password: "bench-password", Role: identity.GroupAdmin, GroupID: gid,
		}); err != nil {
			return nil, err
		}
		body, _ := json.Marshal(map[string]string{"username": name, "password": "bench-password"})
		res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		var out struct {
			Token string `json:"token"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || out.Token == "" {
			return nil, fmt.Errorf("login %s: %s %v", name, res.Status, err)
		}
		tokens = append(tokens, out.Token)
	}
	return tokens, nil
}

// memory is the Go heap and stacks in use, the resident set and the
// goroutines, after collecting garbage.
func memory() (heap, stack, rss uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return m.HeapInuse, m.StackInuse, rss, runtime.NumGoroutine()
}

// cpuTime is the CPU this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}
