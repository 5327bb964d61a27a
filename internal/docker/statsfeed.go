package docker

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	mcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"netkeep/internal/container"
)

// A stats feed is one streaming stats subscription to the engine for one
// container: the engine sends a sample about every second, and the feed
// keeps the usage computed from the latest two. Stats answers from a
// feed's latest usage, so asking about many containers costs no engine
// call per container once their feeds run.
//
// A feed starts when its container is first asked about and ends when it
// has not been asked about for the idle time, when its container is not
// running (the engine then sends empty samples), when its samples stop for
// silentAfter (the engine hangs or went away), or when the runtime closes.
// So a usage answered is the latest the engine sent, at most silentAfter
// old (about a second on an engine that keeps up).
type statsFeed struct {
	mu    sync.Mutex
	usage *container.Stats // nil until two samples arrived
	asked time.Time        // when Stats last asked
}

// silentAfter is how long a feed waits for the engine's next sample, which
// should come every second: an engine busy with many containers on a
// loaded host takes a few.
const silentAfter = 10 * time.Second

// statsFeeds are a runtime's feeds by container id.
type statsFeeds struct {
	idle   time.Duration
	ctx    context.Context // ends every feed
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	feeds map[string]*statsFeed
}

func newStatsFeeds(idle time.Duration) *statsFeeds {
	ctx, cancel := context.WithCancel(context.Background())
	return &statsFeeds{idle: idle, ctx: ctx, cancel: cancel, feeds: map[string]*statsFeed{}}
}

// close ends every feed and waits for them. It cancels under fs.mu, so no
// feed starts once it waits.
func (fs *statsFeeds) close() {
	fs.mu.Lock()
	fs.cancel()
	fs.mu.Unlock()
	fs.wg.Wait()
}

// latest returns the feed's usage of container id, or nil; either
// way it marks the feed asked, starting it (with follow) when there is
// none.
func (fs *statsFeeds) latest(id string, follow func(ctx context.Context, f *statsFeed)) *container.Stats {
	now := time.Now()
	fs.mu.Lock()
	f := fs.feeds[id]
	if f == nil && fs.ctx.Err() == nil {
		f = &statsFeed{asked: now}
		fs.feeds[id] = f
		fs.wg.Go(func() {
			follow(fs.ctx, f)
			fs.mu.Lock()
			defer fs.mu.Unlock()
			if fs.feeds[id] == f {
				delete(fs.feeds, id)
			}
		})
	}
	fs.mu.Unlock()
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = now
	if f.usage == nil {
		return nil
	}
	st := *f.usage
	return &st
}

// running reports whether a feed for container id runs (tests).
func (fs *statsFeeds) running(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.feeds[id] != nil
}

// set records a new usage; it reports false once the feed has been idle
// too long, which ends it.
func (f *statsFeed) set(st container.Stats, idle time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage = &st
	return time.Since(f.asked) <= idle
}

// follow reads the engine's stats stream of container id into f until the
// feed is idle, its samples stop, or ctx ends.
func (r *Runtime) follow(ctx context.Context, f *statsFeed, id string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A stream silent for silentAfter is ended: the engine hangs.
	silent := time.AfterFunc(silentAfter, cancel)
	defer silent.Stop()
	res, err := r.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		return
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	var prev *mcontainer.CPUStats
	for {
		var s mcontainer.StatsResponse
		if err := dec.Decode(&s); err != nil {
			return
		}
		if s.Read.IsZero() {
			return // the engine's empty sample of a container not running, sent every second
		}
		silent.Reset(silentAfter)
		// Each sample carries the engine's previous one for this stream
		// (none in the first), as docker stats reads them.
		pre := prev
		if s.PreCPUStats.SystemUsage != 0 {
			pre = &s.PreCPUStats
		}
		if pre != nil && s.CPUStats.SystemUsage != 0 {
			st := computeStats(*pre, &s)
			st.ContainerID = id
			if !f.set(st, r.feeds.idle) {
				return
			}
		}
		cpu := s.CPUStats
		prev = &cpu
	}
}
