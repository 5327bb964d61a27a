package ratelimit

import (
	"sync"
	"time"
)

// shardCount is a power of two so the shard index is a mask of the hash.
const shardCount = 64

// sweepEvery is how often, at most, a shard forgets keys whose windows ended.
const sweepEvery = int64(time.Minute)

// evictSample is how many keys a full shard inspects to choose one to drop.
const evictSample = 8

// shard is one lock and the keys hashed to it; the padding keeps neighbouring
// shards' locks off one cache line.
type shard struct {
	mu      sync.Mutex
	keys    map[string]*entry
	sweepAt int64 // unix ns of the next sweep
	_       [40]byte
}

// entry holds one key's windows, one per distinct Window it was asked about.
type entry struct {
	windows []window
	expires int64 // unix ns when the last window ends; after it the entry equals a fresh one
}

type window struct {
	span  int64 // Window in ns
	start int64 // unix ns
	count int
}

// sweep forgets every key whose windows have all ended.
func (sh *shard) sweep(now int64) {
	for k, e := range sh.keys {
		if e.expires <= now {
			delete(sh.keys, k)
		}
	}
	sh.sweepAt = now + sweepEvery
}

// add tracks a new key, making room first if the shard holds limit keys.
func (sh *shard) add(key string, now int64, limit int) *entry {
	if len(sh.keys) >= limit {
		sh.sweep(now)
	}
	if len(sh.keys) >= limit {
		sh.evictOne()
	}
	e := &entry{expires: now, windows: make([]window, 0, 2)}
	sh.keys[key] = e
	return e
}

// evictOne drops the sampled key whose windows end soonest. Map iteration
// starts at a random position, so the sample differs from call to call.
func (sh *shard) evictOne() {
	var victim string
	var soonest int64
	n := 0
	for k, e := range sh.keys {
		if n == 0 || e.expires < soonest {
			victim, soonest = k, e.expires
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(sh.keys, victim)
}

// window returns e's counter for span, starting a new window if the current
// one has ended. The pointer is valid until the next call.
func (e *entry) window(span, now int64) *window {
	for i := range e.windows {
		w := &e.windows[i]
		if w.span == span {
			if now >= w.start+span {
				w.start, w.count = now, 0
			}
			return w
		}
	}
	e.windows = append(e.windows, window{span: span, start: now})
	return &e.windows[len(e.windows)-1]
}

// count implements Allow for one key with its shard locked.
func (e *entry) count(now int64, limits []Limit) Decision {
	deny, denyEnd := -1, int64(0)
	for i, lim := range limits {
		w := e.window(int64(lim.Window), now)
		if end := w.start + w.span; w.count >= lim.Max && (deny < 0 || end > denyEnd) {
			deny, denyEnd = i, end
		}
	}
	if deny >= 0 {
		lim := limits[deny]
		w := e.window(int64(lim.Window), now)
		return Decision{
			Limit:      lim.Max,
			Remaining:  max(lim.Max-w.count, 0),
			Reset:      time.Unix(0, denyEnd).UTC(),
			RetryAfter: time.Duration(denyEnd - now),
		}
	}
	d := Decision{Allowed: true}
	best := -1
	for i, lim := range limits {
		w := e.window(int64(lim.Window), now)
		if !sharedWithEarlier(limits, i) {
			w.count++
		}
		end := w.start + w.span
		e.expires = max(e.expires, end)
		if rem := lim.Max - w.count; best < 0 || rem < d.Remaining {
			best = i
			d.Limit, d.Remaining, d.Reset = lim.Max, rem, time.Unix(0, end).UTC()
		}
	}
	return d
}

// sharedWithEarlier reports whether an earlier limit has limits[i]'s Window,
// so that the shared counter is incremented once per request.
func sharedWithEarlier(limits []Limit, i int) bool {
	for _, lim := range limits[:i] {
		if lim.Window == limits[i].Window {
			return true
		}
	}
	return false
}
