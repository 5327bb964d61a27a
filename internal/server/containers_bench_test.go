package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/docker/dockertest"
	"netkeep/internal/server/servertest"
)

// benchContainers is how many containers BenchmarkContainers runs.
const benchContainers = 100

// BenchmarkContainers runs 100 busybox containers (sleep) on an engine of
// its own and measures, in one run: GET /api/v1/containers against
// `docker ps -a --format json` (goal: ≤ 1.2× the CLI), and GET
// /api/v1/containers/stats, every running container's stats in one call
// (goal: ≤ 1 s), answered from the stats feeds (warm); the first such
// call, which starts the feeds, is timed once and logged. Each
// sub-benchmark reports the CPU time netkeep (this process) and the
// engine (dockerd and the processes under it) spent per call besides the
// wall time, and two report what a second costs with and without the
// feeds running.
func BenchmarkContainers(b *testing.B) {
	d := dockertest.Start(b)
	e := startWithEngine(b, d.Host)
	img := d.Busybox(b)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, benchContainers)
	for i := range benchContainers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("containers-bench-%03d", i)
			if out, err := exec.Command("docker", "-H", d.Host, "run", "-d", "--name", name, "--network", "none", img, "sleep", "1000000").CombinedOutput(); err != nil {
				errs <- fmt.Errorf("docker run %s: %v: %s", name, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	master := servertest.Master()
	statsAll := func(b *testing.B) {
		r := e.Do(b, "GET", "/api/v1/containers/stats", nil, master...)
		if cs, _ := r.JSON["containers"].([]any); r.Status != 200 || len(cs) != benchContainers {
			b.Fatalf("stats: %d, %d containers", r.Status, len(cs))
		}
	}

	b.Run("no_feeds_idle_second", func(b *testing.B) {
		defer cpuPerOp(b, d.PID)()
		for b.Loop() {
			time.Sleep(time.Second)
		}
	})
	b.Run("netkeep_list", func(b *testing.B) {
		defer cpuPerOp(b, d.PID)()
		for b.Loop() {
			if r := e.Do(b, "GET", "/api/v1/containers", nil, master...); r.Status != 200 || len(r.Array) != benchContainers {
				b.Fatalf("list: %d, %d containers", r.Status, len(r.Array))
			}
		}
	})
	b.Run("docker_ps", func(b *testing.B) {
		defer cpuPerOp(b, d.PID)()
		for b.Loop() {
			out, err := exec.Command("docker", "-H", d.Host, "ps", "-a", "--format", "json").Output()
			if err != nil || strings.Count(string(out), "\n") != benchContainers {
				b.Fatalf("docker ps: %v", err)
			}
		}
	})
	// The first call finds no stats feed running: it is timed once, here
	// (a later call is warm), and logged.
	start, self, engine := time.Now(), selfCPU(b), procCPU(b, d.PID)
	statsAll(b)
	b.Logf("netkeep_stats_all_cold: %v wall, netkeep cpu %v, engine cpu %v", time.Since(start),
		selfCPU(b)-self, procCPU(b, d.PID)-engine)
	time.Sleep(3 * time.Second) // the feeds' first two samples
	// What the 100 running feeds cost while nobody asks: one op is one
	// second.
	b.Run("feeds_idle_second", func(b *testing.B) {
		defer cpuPerOp(b, d.PID)()
		for b.Loop() {
			time.Sleep(time.Second)
		}
	})
	b.Run("netkeep_stats_all", func(b *testing.B) {
		defer cpuPerOp(b, d.PID)()
		for b.Loop() {
			statsAll(b)
		}
	})
}

// cpuPerOp starts measuring the CPU time (user and system) of this
// process and of process pid; the function it returns reports both per
// operation.
func cpuPerOp(b *testing.B, pid int) func() {
	self, engine := selfCPU(b), procCPU(b, pid)
	return func() {
		n := float64(max(b.N, 1))
		b.ReportMetric(float64(selfCPU(b)-self)/float64(time.Millisecond)/n, "netkeep-cpu-ms/op")
		b.ReportMetric(float64(procCPU(b, pid)-engine)/float64(time.Millisecond)/n, "engine-cpu-ms/op")
	}
}

func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user and system time of process pid and its
// descendants still running (dockerd, its containerd, the shims), from
// /proc (clock ticks of 10 ms, Linux's USER_HZ).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0 // ended meanwhile
	}
	// The fields after the command (which may hold spaces) in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	total := time.Duration(utime+stime) * 10 * time.Millisecond
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		kids, _ := os.ReadFile(t)
		for _, k := range strings.Fields(string(kids)) {
			if kid, err := strconv.Atoi(k); err == nil {
				total += procCPU(b, kid)
			}
		}
	}
	return total
}
