// Package ratelimit counts requests per key in fixed windows, so that a
// transport can answer with exact X-RateLimit-Limit, -Remaining and -Reset
// headers. A Limiter is safe for concurrent use, costs O(1) per request and
// does not allocate for a key it already tracks; its memory is bounded (see
// Limiter). It imports only the standard library.
package ratelimit

import (
	"hash/maphash"
	"time"
)

// Limit allows Max requests per Window. Window must be positive; a Max of 0 or
// less allows nothing.
type Limit struct {
	Max    int
	Window time.Duration
}

// Decision is the outcome of one Allow call, described by the most
// constraining window: for an allowed request the one with the fewest requests
// remaining, for a denied one the window that denied it (the one resetting
// last, if several did).
type Decision struct {
	Allowed    bool
	Limit      int           // that window's Max
	Remaining  int           // requests left in that window after this one
	Reset      time.Time     // when that window ends
	RetryAfter time.Duration // until Reset when denied; 0 when allowed
}

// Limiter holds fixed-window counters for one policy family (say, API keys or
// client addresses), sharded by key to keep lock contention low.
//
// A key's window starts at its first request and lasts Window; the first
// request after it ends starts the next one. Memory stays bounded in two ways:
// a key whose windows have all ended is forgotten, because a fresh counter
// would behave exactly the same (each shard sweeps such keys at most once per
// sweepEvery, on a request that lands in it, so the cost is amortised O(1));
// and at most maxKeys keys are held at once: when a shard is full of live keys,
// the sampled key whose windows end soonest is dropped, which resets that one
// key's count and is the only way the limiter ever forgets a live counter.
type Limiter struct {
	clock    func() time.Time
	seed     maphash.Seed
	perShard int
	shards   [shardCount]shard
}

// Option configures a Limiter.
type Option func(*Limiter)

// DefaultMaxKeys is how many keys a Limiter holds when WithMaxKeys is not given.
const DefaultMaxKeys = 1 << 20

// WithMaxKeys bounds how many keys the limiter tracks at once (at least one
// per shard is always allowed).
func WithMaxKeys(n int) Option {
	return func(l *Limiter) { l.perShard = max(1, (n+shardCount-1)/shardCount) }
}

// New returns a Limiter reading time from clock (time.Now when nil).
func New(clock func() time.Time, opts ...Option) *Limiter {
	if clock == nil {
		clock = time.Now
	}
	l := &Limiter{clock: clock, seed: maphash.MakeSeed()}
	WithMaxKeys(DefaultMaxKeys)(l)
	for _, o := range opts {
		o(l)
	}
	for i := range l.shards {
		l.shards[i].keys = make(map[string]*entry)
	}
	return l
}

// Allow counts one request for key against every limit, but only if all of
// them allow it; a denied request counts in none. Limits with the same Window
// share one counter. With no limits every request is allowed and the Decision
// is otherwise zero. It panics if a limit's Window is not positive.
func (l *Limiter) Allow(key string, limits ...Limit) Decision {
	if len(limits) == 0 {
		return Decision{Allowed: true}
	}
	for _, lim := range limits {
		if lim.Window <= 0 {
			panic("ratelimit: Limit.Window must be positive")
		}
	}
	now := l.clock().UnixNano()
	sh := &l.shards[maphash.String(l.seed, key)%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now >= sh.sweepAt {
		sh.sweep(now)
	}
	e := sh.keys[key]
	if e == nil {
		e = sh.add(key, now, l.perShard)
	}
	return e.count(now, limits)
}

// Refund takes back one request Allow counted for key against limits, so
// that only some outcomes cost budget (failed sign-ins, say, and not
// successful ones): count first with Allow, which stays exact under
// concurrency, then Refund what turned out free. A window that has ended
// since is left alone (its successor never counted the request).
func (l *Limiter) Refund(key string, limits ...Limit) {
	now := l.clock().UnixNano()
	sh := &l.shards[maphash.String(l.seed, key)%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.keys[key]
	if e == nil {
		return
	}
	for i, lim := range limits {
		if sharedWithEarlier(limits, i) {
			continue
		}
		for j := range e.windows {
			w := &e.windows[j]
			if w.span == int64(lim.Window) && now < w.start+w.span && w.count > 0 {
				w.count--
			}
		}
	}
}

// Len reports how many keys are tracked (for tests and metrics).
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.keys)
		sh.mu.Unlock()
	}
	return n
}
