// Command replicas proves that two `netkeep serve` replicas on one
// PostgreSQL survive a rolling restart under load. It builds netkeep,
// creates a fresh database, starts replicas A and B (same
// NETKEEP_SECRET_KEY and NETKEEP_MASTER_KEY, their own HTTP and RADIUS
// ports) behind a small load balancer (balancer.go), and runs API load (PSK
// writes and reads through the balancer) and RADIUS MAC-authentication load
// (to A and B in turn, retransmitted to the other on no answer) while it
// restarts A (SIGTERM, start, ready), then B. It then checks that
//   - no request failed beyond the balancer's or the RADIUS client's retry,
//   - every PSK whose creation the client saw acknowledged is stored,
//   - a change made through one replica is visible on the other (its API,
//     and its RADIUS directory through LISTEN/NOTIFY) within 1 s,
//
// prints the figures and exits 1 when a check fails. Everything listens on
// 127.0.0.1; the run stops by itself and drops its database.
//
//	go run ./bench/replicas [-postgres URL] [-warmup 5s] [-settle 5s]
//
// Run it from the repository root (it builds ./cmd/netkeep).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

type options struct {
	postgres              string
	warmup, settle        time.Duration
	writers, readers      int
	radiusWorkers         int
	stations              int
	pause, propagateEvery time.Duration
	keep                  bool
}

func main() {
	var o options
	flag.StringVar(&o.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL maintenance database URL; the run creates and drops its own database beside it")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "load before the first restart")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "load after each restart")
	flag.IntVar(&o.writers, "writers", 4, "concurrent PSK writers")
	flag.IntVar(&o.readers, "readers", 2, "concurrent PSK readers")
	flag.IntVar(&o.radiusWorkers, "radius", 4, "concurrent RADIUS clients")
	flag.IntVar(&o.stations, "stations", 1000, "stations (PSK + MAC) loaded for the RADIUS load")
	flag.DurationVar(&o.pause, "pause", 5*time.Millisecond, "pause between one worker's requests")
	flag.DurationVar(&o.propagateEvery, "propagate-every", 100*time.Millisecond, "pause between propagation samples")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (replica logs)")
	flag.Parse()
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func run(o options) (ok bool, err error) {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "netkeep-replicas-")
	if err != nil {
		return false, err
	}
	defer func() {
		if o.keep || !ok {
			fmt.Println("work directory (replica logs):", work)
			return
		}
		os.RemoveAll(work)
	}()
	binary := filepath.Join(work, "netkeep")
	fmt.Println("building netkeep")
	if out, err := exec.Command("go", "build", "-o", binary, "./cmd/netkeep").CombinedOutput(); err != nil {
		return false, fmt.Errorf("go build: %v\n%s", err, out)
	}
	db, err := createDatabase(ctx, o.postgres)
	if err != nil {
		return false, err
	}
	defer func() {
		if derr := db.drop(ctx); derr != nil {
			fmt.Fprintln(os.Stderr, "dropping", db.name+":", derr)
		}
	}()

	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"NETKEEP_SECRET_KEY=" + randomHex(32), "NETKEEP_MASTER_KEY=" + randomHex(24),
		"NETKEEP_LOG_LEVEL=warn"}
	httpAddrs, err := freePorts("tcp", 3)
	if err != nil {
		return false, err
	}
	radiusAddrs, err := freePorts("udp", 2)
	if err != nil {
		return false, err
	}
	var replicas []*replica
	for i, name := range []string{"A", "B"} {
		r, err := newReplica(name, binary, work, db.url, env, httpAddrs[i], radiusAddrs[i])
		if err != nil {
			return false, err
		}
		replicas = append(replicas, r)
		defer r.kill()
	}
	// A migrates first; B then finds the schema current.
	for _, r := range replicas {
		if err := r.start(); err != nil {
			return false, err
		}
		if err := r.waitReady(ctx, 60*time.Second, nil, ""); err != nil {
			return false, err
		}
	}

	lb := newBalancer(replicas[0].base(), replicas[1].base())
	lbCtx, stopLB := context.WithCancel(ctx)
	defer stopLB()
	go lb.checkHealth(lbCtx)
	ln, err := net.Listen("tcp", httpAddrs[2])
	if err != nil {
		return false, err
	}
	lbServer := &http.Server{Handler: lb, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = lbServer.Serve(ln) }()
	defer lbServer.Close()

	rc := &radiusClient{secret: []byte(randomHex(12))}
	fx, err := setup(replicas[0].base(), "http://"+httpAddrs[2], rc, o.stations)
	if err != nil {
		return false, err
	}
	for _, r := range replicas {
		if err := r.waitReady(ctx, 60*time.Second, rc, fx.stations[0]); err != nil {
			return false, err
		}
	}

	fmt.Printf("load: %d writers, %d readers, %d RADIUS clients, %d stations; restarting A then B\n",
		o.writers, o.readers, o.radiusWorkers, o.stations)
	// Odd while a restart is under way: propagation samples that overlap
	// one are abandoned.
	var restartEpoch atomic.Int64
	l := &load{lb: newAPIClient("http://"+httpAddrs[2], fx.token), rc: rc, replicas: replicas,
		stations: fx.stations, pause: o.pause}
	p := &propagation{token: fx.token, rc: rc, epoch: &restartEpoch, every: o.propagateEvery, limit: time.Second}
	loadCtx, stopLoad := context.WithCancel(ctx)
	waitLoad := l.run(loadCtx, o.writers, o.readers, o.radiusWorkers)
	propDone := make(chan struct{})
	go func() { defer close(propDone); p.run(loadCtx, replicas) }()

	start := time.Now()
	time.Sleep(o.warmup)
	var restarts []string
	for _, r := range replicas {
		restartEpoch.Add(1)
		t0 := time.Now()
		code, err := r.stop(30 * time.Second)
		stopped := time.Since(t0)
		if err == nil && code != 0 {
			err = fmt.Errorf("%s exited with %d after SIGTERM (log: %s)", r.name, code, r.logPath)
		}
		if err == nil {
			err = r.start()
		}
		if err == nil {
			err = r.waitReady(ctx, 60*time.Second, rc, fx.stations[0])
		}
		if err != nil {
			stopLoad()
			waitLoad()
			<-propDone
			return false, err
		}
		restartEpoch.Add(1)
		restarts = append(restarts, fmt.Sprintf("%s: stopped in %v, down (SIGTERM to RADIUS accepting again) %v",
			r.name, stopped.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond)))
		time.Sleep(o.settle)
	}
	stopLoad()
	waitLoad()
	<-propDone
	elapsed := time.Since(start)

	acked := l.ackedSnapshot()
	stored, err := db.storedPSKs(ctx, "ack-")
	if err != nil {
		return false, err
	}
	var lost []string
	for _, c := range acked {
		if !stored[c.PSKID] {
			lost = append(lost, c.PSKID)
		}
	}

	fmt.Printf("ran %v\n", elapsed.Round(time.Millisecond))
	for _, s := range restarts {
		fmt.Println("restart", s)
	}
	fmt.Printf("API: %d writes (%d acknowledged), %d reads; balancer retries %d\n",
		l.writes.Load(), len(acked), l.reads.Load(), lb.retries.Load())
	fmt.Printf("RADIUS: %d authentications, %d retransmitted to the other replica\n", l.radiusReqs.Load(), l.radRetr.Load())
	fmt.Printf("failed beyond the retry: %d\n", len(l.failures))
	printSome(l.failures)
	fmt.Printf("acknowledged PSKs stored: %d of %d (stored but unacknowledged: %d)\n",
		len(acked)-len(lost), len(acked), len(stored)-(len(acked)-len(lost)))
	if len(lost) > 0 {
		fmt.Println("  lost:", strings.Join(lost[:min(len(lost), 20)], ", "))
	}
	for _, dir := range []string{"A→B", "B→A"} {
		fmt.Printf("propagation %s RADIUS: %s\n", dir, summary(p.radius[dir]))
		fmt.Printf("propagation %s API:    %s\n", dir, summary(p.api[dir]))
	}
	fmt.Printf("propagation samples over 1 s or missing: %d (abandoned by a restart: %d)\n", len(p.missed), p.skipped)
	printSome(p.missed)
	ok = len(l.failures) == 0 && len(lost) == 0 && len(p.missed) == 0 &&
		len(p.radius["A→B"]) > 0 && len(p.radius["B→A"]) > 0
	if ok {
		fmt.Println("PASS")
	} else {
		fmt.Println("FAIL")
	}
	return ok, nil
}

// printSome prints the first 20 lines, indented.
func printSome(lines []string) {
	for i, s := range lines {
		if i == 20 {
			fmt.Printf("  … %d more\n", len(lines)-i)
			return
		}
		fmt.Println("  ", s)
	}
}
