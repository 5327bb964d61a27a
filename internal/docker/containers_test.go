package docker_test

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"netkeep/internal/container"
	"netkeep/internal/docker"
	"netkeep/internal/docker/dockertest"
	"netkeep/internal/fault"
)

func runtime(tb testing.TB) *docker.Runtime {
	tb.Helper()
	rt, err := docker.NewRuntime(dockertest.Engine(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Close() })
	return rt
}

// inspectState is the container's state as the docker CLI sees it.
func inspectState(tb testing.TB, id string) string {
	tb.Helper()
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Status}}", id).CombinedOutput()
	if err != nil {
		tb.Fatalf("docker inspect: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// The runtime lists, inspects, stops, starts and restarts a real
// container, and the engine agrees at each step.
func TestRuntimeLifecycle(t *testing.T) {
	rt := runtime(t)
	c := dockertest.Run(t, "containers-life", dockertest.RunOptions{Labels: map[string]string{"netkeep.test": "life"}})
	ctx := context.Background()

	list, err := rt.List(ctx, container.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var found *container.Summary
	for i := range list {
		if list[i].ID == c.ID {
			found = &list[i]
		}
	}
	if found == nil {
		t.Fatalf("container %s not listed", c.Name)
	}
	if found.Name != c.Name || found.Image != dockertest.Image || found.State != container.StateRunning ||
		found.Runtime != container.RuntimeDocker || found.Labels["netkeep.test"] != "life" || found.Created.IsZero() ||
		!strings.HasPrefix(found.Status, "Up") {
		t.Errorf("listed: %+v", found)
	}
	if l, err := rt.List(ctx, container.Filter{Namespace: "default"}); err != nil || len(l) != 0 {
		t.Errorf("a namespace filter on Docker: %v, %v", l, err)
	}

	d, err := rt.Inspect(ctx, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != c.ID || d.Name != c.Name || d.State != container.StateRunning || d.StartedAt.IsZero() ||
		strings.Join(d.Command, " ") != "sleep 1000000" || d.NetworkMode != "host" {
		t.Errorf("inspected: %+v", d)
	}

	steps := []struct {
		name string
		op   func() error
		want string
	}{
		{"stop", func() error { return rt.Stop(ctx, c.ID, time.Second) }, "exited"},
		{"start", func() error { return rt.Start(ctx, c.ID) }, "running"},
		{"start again changes nothing", func() error { return rt.Start(ctx, c.ID) }, "running"},
		{"restart", func() error { return rt.Restart(ctx, c.ID, time.Second) }, "running"},
	}
	for _, s := range steps {
		if err := s.op(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := inspectState(t, c.ID); got != s.want {
			t.Fatalf("after %s the engine says %s, want %s", s.name, got, s.want)
		}
	}
	if after, _ := rt.Inspect(ctx, c.ID); !after.StartedAt.After(d.StartedAt) {
		t.Errorf("restart did not restart: started %v, then %v", d.StartedAt, after.StartedAt)
	}
}

// Unknown containers are not_found; an engine that is not there is
// unavailable, for every call.
func TestRuntimeErrors(t *testing.T) {
	rt := runtime(t)
	down, err := docker.NewRuntime("unix:///nonexistent/netkeep-containers.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want fault.Code
	}{
		{"inspect unknown", func() error { _, err := rt.Inspect(ctx, "containers-nonexistent"); return err }, fault.NotFound},
		{"start unknown", func() error { return rt.Start(ctx, "containers-nonexistent") }, fault.NotFound},
		{"stop unknown", func() error { return rt.Stop(ctx, "containers-nonexistent", time.Second) }, fault.NotFound},
		{"stats unknown", func() error { _, err := rt.Stats(ctx, "containers-nonexistent"); return err }, fault.NotFound},
		{"logs unknown", func() error {
			return rt.Logs(ctx, "containers-nonexistent", container.LogOptions{}, func(container.LogLine) bool { return true })
		}, fault.NotFound},
		{"list, engine down", func() error { _, err := down.List(ctx, container.Filter{}); return err }, fault.Unavailable},
		{"inspect, engine down", func() error { _, err := down.Inspect(ctx, "x"); return err }, fault.Unavailable},
		{"start, engine down", func() error { return down.Start(ctx, "x") }, fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); fault.CodeOf(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}

// A container's logs come back line by line, stdout and stderr apart.
func TestRuntimeLogsDemultiplexed(t *testing.T) {
	rt := runtime(t)
	c := dockertest.Run(t, "containers-logs", dockertest.RunOptions{Cmd: []string{"sh", "-c",
		"echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2; sleep 1000000"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []container.LogLine
	// Follow until the four lines are there: the container may not have
	// written them yet.
	err := rt.Logs(ctx, c.ID, container.LogOptions{Tail: -1, Follow: true}, func(l container.LogLine) bool {
		got = append(got, l)
		return len(got) < 4
	})
	if err != nil {
		t.Fatal(err)
	}
	var out, errs []string
	for _, l := range got {
		switch l.Stream {
		case container.Stdout:
			out = append(out, l.Line)
		case container.Stderr:
			errs = append(errs, l.Line)
		}
	}
	if strings.Join(out, ",") != "out-1,out-2" || strings.Join(errs, ",") != "err-1,err-2" {
		t.Errorf("stdout %q stderr %q", out, errs)
	}

	// Without follow the stream ends by itself; tail keeps the last lines;
	// timestamps prefix them.
	var tail []string
	if err := rt.Logs(ctx, c.ID, container.LogOptions{Tail: 1, Timestamps: true}, func(l container.LogLine) bool {
		tail = append(tail, l.Line)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	stamped := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+Z (out|err)-2$`)
	if len(tail) != 1 || !stamped.MatchString(tail[0]) {
		t.Errorf("tail 1 with timestamps: %q", tail)
	}
}

// dockerStats is one line of docker stats --no-stream --format json.
type dockerStats struct {
	ID       string `json:"ID"`
	CPUPerc  string `json:"CPUPerc"`
	MemPerc  string `json:"MemPerc"`
	MemUsage string `json:"MemUsage"`
}

func percent(tb testing.TB, s string) float64 {
	tb.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		tb.Fatalf("percent %q: %v", s, err)
	}
	return v
}

// bytesOf reads docker's binary units ("1.5MiB", "7.7GiB", "100KiB", "0B").
func bytesOf(tb testing.TB, s string) float64 {
	tb.Helper()
	s = strings.TrimSpace(s)
	for i, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if n, ok := strings.CutSuffix(s, u); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil {
				tb.Fatalf("size %q: %v", s, err)
			}
			return v * math.Pow(1024, float64(i+1))
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "B"), 64)
	if err != nil {
		tb.Fatalf("size %q: %v", s, err)
	}
	return v
}

// Stats agree with docker stats: the same memory in use (page cache
// excluded) and limit, and CPU usage of a busy and an idle container
// within what two samples taken at different moments on a shared machine
// can differ by. Both answers are checked: the first, measured over the
// window, and a later one, from the container's stats stream.
func TestRuntimeStatsMatchDockerStats(t *testing.T) {
	rt := runtime(t)
	idle := dockertest.Run(t, "containers-idle", dockertest.RunOptions{})
	busy := dockertest.Run(t, "containers-busy", dockertest.RunOptions{Cmd: []string{"sh", "-c", "while :; do :; done"}})
	ctx := context.Background()
	for _, c := range []*dockertest.Container{idle, busy} {
		for _, source := range []string{"measured", "streamed"} {
			t.Run(c.Name+"/"+source, func(t *testing.T) {
				if source == "streamed" {
					deadline := time.Now().Add(60 * time.Second)
					for !docker.FeedHasUsage(rt, c.ID) {
						if time.Now().After(deadline) {
							t.Fatal("the container's stats stream gave no usage")
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
				ours, err := rt.Stats(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				compareDockerStats(t, c, ours, c == busy)
			})
		}
	}
}

// compareDockerStats checks ours against docker stats --no-stream of c.
func compareDockerStats(t *testing.T, c *dockertest.Container, ours *container.Stats, busy bool) {
	t.Helper()
	out, err := exec.Command("docker", "stats", "--no-stream", "--format", "json", c.ID).Output()
	if err != nil {
		t.Fatalf("docker stats: %v", err)
	}
	var theirs dockerStats
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatalf("docker stats %s: %v", out, err)
	}
	used, limit, _ := strings.Cut(theirs.MemUsage, "/")
	if d := math.Abs(float64(ours.Memory.Used) - bytesOf(t, used)); d > 0.05*bytesOf(t, used)+64<<10 {
		t.Errorf("memory used %d, docker stats %s", ours.Memory.Used, used)
	}
	if d := math.Abs(float64(ours.Memory.Limit) - bytesOf(t, limit)); d > 0.01*float64(ours.Memory.Limit) {
		t.Errorf("memory limit %d, docker stats %s", ours.Memory.Limit, limit)
	}
	if d := math.Abs(ours.Memory.Usage - percent(t, theirs.MemPerc)); d > 0.05 {
		t.Errorf("memory %% %.2f, docker stats %s", ours.Memory.Usage, theirs.MemPerc)
	}
	if ours.Memory.Available != ours.Memory.Limit-ours.Memory.Used {
		t.Errorf("available %d of limit %d used %d", ours.Memory.Available, ours.Memory.Limit, ours.Memory.Used)
	}
	cpu := percent(t, theirs.CPUPerc)
	if busy && (ours.CPU.Usage < 5 || cpu < 5 || math.Abs(ours.CPU.Usage-cpu) > 50) {
		t.Errorf("busy cpu %.2f%%, docker stats %s", ours.CPU.Usage, theirs.CPUPerc)
	}
	if !busy && (ours.CPU.Usage > 2 || cpu > 2) {
		t.Errorf("idle cpu %.2f%%, docker stats %s", ours.CPU.Usage, theirs.CPUPerc)
	}
	if ours.CPU.TotalCores < 1 || math.Abs(ours.CPU.CoresUsed*100-ours.CPU.Usage) > 1e-9 {
		t.Errorf("cores: %+v", ours.CPU)
	}
}
