package server_test

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"netkeep/internal/docker/dockertest"
	"netkeep/internal/server/servertest"
)

// benchContainers is how many containers BenchmarkContainers runs.
const benchContainers = 100

// BenchmarkContainers runs 100 busybox containers (sleep) on the real
// engine and measures, in one run: GET /api/v1/containers against
// `docker ps -a --format json` (goal: ≤ 1.2× the CLI), and GET
// /api/v1/containers/stats, every running container's stats in one call
// (goal: ≤ 1 s). The containers are removed at the end.
func BenchmarkContainers(b *testing.B) {
	e := startWithEngine(b, dockertest.Engine(b))
	img := dockertest.Busybox(b)
	prefix := fmt.Sprintf("containers-bench-%d", b.N)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, benchContainers)
	for i := range benchContainers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("%s-%03d", prefix, i)
			if out, err := exec.Command("docker", "run", "-d", "--name", name, "--network", "none", img, "sleep", "1000000").CombinedOutput(); err != nil {
				errs <- fmt.Errorf("docker run %s: %v: %s", name, err, out)
			}
		})
	}
	wg.Wait()
	b.Cleanup(func() {
		out, _ := exec.Command("docker", "ps", "-aq", "--filter", "name="+prefix).Output()
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
		}
	})
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	master := servertest.Master()

	b.Run("netkeep_list", func(b *testing.B) {
		for b.Loop() {
			if r := e.Do(b, "GET", "/api/v1/containers", nil, master...); r.Status != 200 || len(r.Array) < benchContainers {
				b.Fatalf("list: %d, %d containers", r.Status, len(r.Array))
			}
		}
	})
	b.Run("docker_ps", func(b *testing.B) {
		for b.Loop() {
			out, err := exec.Command("docker", "ps", "-a", "--format", "json").Output()
			if err != nil || strings.Count(string(out), "\n") < benchContainers {
				b.Fatalf("docker ps: %v", err)
			}
		}
	})
	b.Run("netkeep_stats_all", func(b *testing.B) {
		for b.Loop() {
			r := e.Do(b, "GET", "/api/v1/containers/stats", nil, master...)
			if cs, _ := r.JSON["containers"].([]any); r.Status != 200 || len(cs) < benchContainers {
				b.Fatalf("stats: %d, %d containers", r.Status, len(cs))
			}
		}
	})
}
