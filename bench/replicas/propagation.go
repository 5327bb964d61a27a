package main

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// propagation measures how long a change made through one replica takes
// to show on the other: an endpoint (a new station MAC bound to the PSK
// "prop") is created through one replica's API, then the other is polled
// until its API returns the endpoint and its RADIUS server accepts the
// station. The RADIUS answer comes from the replica's in-memory directory,
// which only learns of the change through the database's notification, so
// it is the figure that matters; the API read goes to the database.
// A sample counts only when no restart began or was under way from its
// creating request to its last poll (epoch unchanged and even).
type propagation struct {
	token   string
	rc      *radiusClient
	epoch   *atomic.Int64 // odd while a restart is under way
	every   time.Duration
	limit   time.Duration // a sample slower than this fails the run
	next    int
	radius  map[string][]time.Duration // by direction "A→B"
	api     map[string][]time.Duration
	missed  []string // changes not visible within limit
	skipped int      // samples abandoned because a restart began
}

func (p *propagation) run(ctx context.Context, replicas []*replica) {
	p.radius, p.api = map[string][]time.Duration{}, map[string][]time.Duration{}
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.every):
		}
		if p.epoch.Load()%2 == 1 {
			continue
		}
		src, dst := replicas[i%2], replicas[(i+1)%2]
		p.sample(src, dst)
	}
}

func (p *propagation) sample(src, dst *replica) {
	epoch := p.epoch.Load()
	p.next++
	station := fmt.Sprintf("02:10:00:00:%02x:%02x", p.next>>8&0xff, p.next&0xff)
	dir := src.name + "→" + dst.name
	var ep struct {
		ID int64 `json:"id"`
	}
	err := newAPIClient(src.base(), p.token).call("POST", "/api/v1/endpoints",
		map[string]any{"mac_address": station, "psk_id": "prop"}, 201, &ep)
	acked := time.Now()
	if err != nil {
		if p.epoch.Load() == epoch {
			p.missed = append(p.missed, fmt.Sprintf("%s: creating %s: %v", dir, station, err))
		} else {
			p.skipped++
		}
		return
	}
	reader := newAPIClient(dst.base(), p.token)
	var apiAt, radiusAt time.Duration
	for deadline := acked.Add(5 * p.limit); time.Now().Before(deadline); {
		if apiAt == 0 && reader.call("GET", fmt.Sprintf("/api/v1/endpoints/%d", ep.ID), nil, 200, nil) == nil {
			apiAt = time.Since(acked)
		}
		if radiusAt == 0 {
			if ok, _ := p.rc.accepted(dst.radius, station, 100*time.Millisecond); ok {
				radiusAt = time.Since(acked)
			}
		}
		if apiAt != 0 && radiusAt != 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if p.epoch.Load() != epoch {
		p.skipped++
		return
	}
	if apiAt == 0 || radiusAt == 0 || max(apiAt, radiusAt) >= p.limit {
		p.missed = append(p.missed, fmt.Sprintf("%s: %s visible after API %v, RADIUS %v", dir, station, apiAt, radiusAt))
	}
	if apiAt != 0 {
		p.api[dir] = append(p.api[dir], apiAt)
	}
	if radiusAt != 0 {
		p.radius[dir] = append(p.radius[dir], radiusAt)
	}
}

// summary is "n=… p50=… p99=… max=…" of d.
func summary(d []time.Duration) string {
	if len(d) == 0 {
		return "n=0"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(f float64) time.Duration { return s[min(len(s)-1, int(f*float64(len(s))))] }
	r := func(v time.Duration) string { return v.Round(100 * time.Microsecond).String() }
	return fmt.Sprintf("n=%d p50=%s p90=%s p99=%s max=%s", len(s), r(q(.5)), r(q(.9)), r(q(.99)), r(s[len(s)-1]))
}
