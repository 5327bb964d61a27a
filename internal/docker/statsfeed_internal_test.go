package docker

import (
	"context"
	"testing"
	"time"

	"netkeep/internal/container"
	"netkeep/internal/docker/dockertest"
)

// feedUsage waits until the runtime's feed of container id has a usage
// and returns it.
func feedUsage(tb testing.TB, r *Runtime, id string) container.Stats {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r.feeds.mu.Lock()
		f := r.feeds.feeds[id]
		r.feeds.mu.Unlock()
		if f != nil {
			f.mu.Lock()
			u := f.usage
			f.mu.Unlock()
			if u != nil {
				return *u
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the feed of %s has no usage", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFeedEnds waits until the runtime has no feed of container id.
func waitFeedEnds(tb testing.TB, r *Runtime, id, why string) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for r.feeds.running(id) {
		if time.Now().After(deadline) {
			tb.Fatalf("the feed of %s did not end (%s)", id, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A container's first stats start its feed; once the feed has a usage the
// runtime answers from it (a busy container shows its CPU there too); the
// feed ends when unasked for the idle time, when its container stops, and
// when the runtime closes.
func TestStatsFeed(t *testing.T) {
	host := dockertest.Engine(t)
	busy := dockertest.Run(t, "containers-feed-busy", dockertest.RunOptions{Network: "none", Cmd: []string{"sh", "-c", "while :; do :; done"}})
	ctx := context.Background()

	// The idle time outlasts the engine's first samples even on a loaded
	// machine: a feed closed as unasked before its first usage would leave
	// nothing to read below.
	r, err := NewRuntime(host, WithStatsIdle(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stats(ctx, busy.ID); err != nil {
		t.Fatal(err)
	}
	if !r.feeds.running(busy.ID) {
		t.Fatal("the first stats started no feed")
	}
	fed := feedUsage(t, r, busy.ID)
	st, err := r.Stats(ctx, busy.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Answered from the feed: a usage at least as new as the one seen.
	if st.ContainerID != busy.ID || st.Time.Before(fed.Time) || st.Memory.Limit == 0 || st.CPU.TotalCores < 1 {
		t.Errorf("stats %+v, feed had %+v", st, fed)
	}
	if st.CPU.Usage < 5 {
		t.Errorf("a busy container's feed shows %.2f%% CPU", st.CPU.Usage)
	}
	waitFeedEnds(t, r, busy.ID, "unasked")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	long, err := NewRuntime(host, WithStatsIdle(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	stopping := dockertest.Run(t, "containers-feed-stop", dockertest.RunOptions{Network: "none"})
	for _, c := range []*dockertest.Container{busy, stopping} {
		if _, err := long.Stats(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		feedUsage(t, long, c.ID)
	}
	stopping.Stop(t)
	waitFeedEnds(t, long, stopping.ID, "its container stopped")
	if !long.feeds.running(busy.ID) {
		t.Error("the feed of a running container ended with another's")
	}
	long.Close()
	if long.feeds.running(busy.ID) {
		t.Error("a feed outlived its runtime")
	}
}
