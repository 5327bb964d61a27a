package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// load is the traffic during the run: PSK writes and reads through the
// balancer, and MAC authentications sent to the replicas in turn with a
// retransmission to the other one when the first does not answer.
type load struct {
	lb       *apiClient
	rc       *radiusClient
	replicas []*replica
	stations []string
	pause    time.Duration // between one worker's requests

	writes, reads       atomic.Int64
	radiusReqs, radRetr atomic.Int64

	mu       sync.Mutex
	acked    []created // writes the client saw acknowledged (201)
	failures []string  // requests that failed beyond the retry
}

func (l *load) fail(what string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), what, err))
}

// run starts the workers; the returned function waits for them after ctx
// ends. A request in flight when ctx ends completes and is counted.
func (l *load) run(ctx context.Context, writers, readers, radiusWorkers int) (wait func()) {
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { l.writer(ctx, w) })
	}
	for range readers {
		wg.Go(func() { l.reader(ctx) })
	}
	for i := range radiusWorkers {
		wg.Go(func() { l.authenticator(ctx, i) })
	}
	return wg.Wait
}

func (l *load) sleep(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(l.pause):
		return true
	}
}

// writer creates PSKs named ack-<w>-<n> and records each acknowledged one.
func (l *load) writer(ctx context.Context, w int) {
	for n := 1; ctx.Err() == nil; n++ {
		var c created
		err := l.lb.call("POST", "/api/v1/psks", map[string]any{
			"psk_id": fmt.Sprintf("ack-%d-%d", w, n), "description": "replicas bench", "vlan_id": 100,
		}, 201, &c)
		l.writes.Add(1)
		if err != nil {
			l.fail("write", err)
		} else {
			l.mu.Lock()
			l.acked = append(l.acked, c)
			l.mu.Unlock()
		}
		if !l.sleep(ctx) {
			return
		}
	}
}

// reader lists PSKs and reads back an acknowledged one, through either
// replica: a write acknowledged by one is readable on the other.
func (l *load) reader(ctx context.Context) {
	for ctx.Err() == nil {
		var page struct {
			Total int `json:"total"`
		}
		l.reads.Add(1)
		if err := l.lb.call("GET", "/api/v1/psks?limit=10", nil, 200, &page); err != nil {
			l.fail("list", err)
		}
		l.mu.Lock()
		var pick *created
		if len(l.acked) > 0 {
			c := l.acked[rand.IntN(len(l.acked))]
			pick = &c
		}
		l.mu.Unlock()
		if pick != nil {
			var got created
			l.reads.Add(1)
			if err := l.lb.call("GET", fmt.Sprintf("/api/v1/psks/%d", pick.ID), nil, 200, &got); err != nil {
				l.fail("read", err)
			} else if got.PSKID != pick.PSKID {
				l.fail("read", fmt.Errorf("PSK %d is %q, was created as %q", pick.ID, got.PSKID, pick.PSKID))
			}
		}
		if !l.sleep(ctx) {
			return
		}
	}
}

// authenticator sends MAC authentications, alternating the first server.
func (l *load) authenticator(ctx context.Context, i int) {
	for n := i; ctx.Err() == nil; n++ {
		first, second := l.replicas[n%2], l.replicas[(n+1)%2]
		station := l.stations[rand.IntN(len(l.stations))]
		retried, err := l.rc.authenticate(first.radius, second.radius, station, time.Second)
		l.radiusReqs.Add(1)
		if retried {
			l.radRetr.Add(1)
		}
		if err != nil {
			l.fail("radius", err)
		}
		if !l.sleep(ctx) {
			return
		}
	}
}

func (l *load) ackedSnapshot() []created {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]created(nil), l.acked...)
}
