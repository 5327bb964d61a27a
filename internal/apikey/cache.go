package apikey

import (
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Cache bounds. A full positive cache drops an arbitrary entry (it is
// reloaded on its next use); a full negative cache first forgets expired
// entries and, if that is not enough, everything.
const (
	maxCached   = 100_000
	maxNegative = 10_000
	negativeTTL = 30 * time.Second
	// settleTime is how long after a "user" event (or a resync) keys of that
	// user are cached for at most: other subscribers of the event, such as a
	// cache in front of UserLookup, may not have applied it yet when a
	// request reloads the key, and what is read then must not stick.
	settleTime = 5 * time.Second
)

// entry is one key as Authenticate needs it. Everything but the last-use
// counters is immutable once the entry is cached.
type entry struct {
	hash      [32]byte
	key       *Key
	principal authz.Principal // valid when err is nil
	err       *fault.Error    // set when the key can never authenticate as loaded (revoked, owner inactive)
	loaded    int64           // unix ns, service clock

	used    atomic.Int64 // unix ns of the last authentication, to the second; 0 for never
	flushed atomic.Int64 // the last used value written to the store
	dropped atomic.Bool  // no longer (or never) cached: uses go to cache.pending
}

// touch records a use of e at now in c, writing at most once a second so that
// busy keys do not bounce the entry between CPU caches. A use of an entry that
// has left the cache goes to the pending uses instead; since dropLocked sets
// dropped before it reads used, and touch stores used before it reads
// dropped, at least one of them hands the use over.
func (c *cache) touch(e *entry, now int64) {
	if now-e.used.Load() < int64(time.Second) {
		return
	}
	e.used.Store(now)
	if e.dropped.Load() {
		c.mu.Lock()
		c.pending[e.key.ID] = max(c.pending[e.key.ID], now)
		c.mu.Unlock()
	}
}

// markFlushed records that the store holds uses up to at.
func (e *entry) markFlushed(at int64) {
	for {
		old := e.flushed.Load()
		if old >= at || e.flushed.CompareAndSwap(old, at) {
			return
		}
	}
}

// cache holds keys by hash, with an index by id for invalidation, plus
// briefly remembered unknown hashes.
//
// gen counts invalidations. A load records gen before reading the store and
// caches its result only if gen has not moved since, so a load that raced an
// invalidation can never cache what the invalidation removed.
type cache struct {
	mu      sync.RWMutex
	byHash  map[[32]byte]*entry
	byID    map[string]*entry
	gen     uint64
	pending map[string]int64 // last uses of dropped entries not yet flushed, unix ns
	changed map[int64]int64  // user id → unix ns of its latest "user" event
	cleared int64            // unix ns of the latest clear

	negMu sync.Mutex
	neg   map[[32]byte]int64 // unknown hash → unix ns until which it stays unknown
}

func newCache() *cache {
	return &cache{
		byHash:  make(map[[32]byte]*entry),
		byID:    make(map[string]*entry),
		pending: make(map[string]int64),
		changed: make(map[int64]int64),
		neg:     make(map[[32]byte]int64),
	}
}

func (c *cache) get(h [32]byte) *entry {
	c.mu.RLock()
	e := c.byHash[h]
	c.mu.RUnlock()
	return e
}

func (c *cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put caches e unless an invalidation happened since gen, in which case e is
// marked dropped. An entry it replaces (reloaded after its TTL) is dropped.
func (c *cache) put(e *entry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		e.dropped.Store(true)
		return
	}
	if old := c.byHash[e.hash]; old != nil {
		c.dropLocked(old)
	} else if len(c.byHash) >= maxCached {
		for _, victim := range c.byHash {
			c.dropLocked(victim)
			break
		}
	}
	c.byHash[e.hash] = e
	c.byID[e.key.ID] = e
}

// dropID forgets the key with id.
func (c *cache) dropID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if e := c.byID[id]; e != nil {
		c.dropLocked(e)
	}
}

// dropOwner forgets every key created by userID, at now.
func (c *cache) dropOwner(userID, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(c.changed) >= 1024 {
		for id, at := range c.changed {
			if now-at >= int64(settleTime) {
				delete(c.changed, id)
			}
		}
	}
	c.changed[userID] = now
	for _, e := range c.byHash {
		if e.key.CreatedBy == userID {
			c.dropLocked(e)
		}
	}
}

// clear forgets everything but unflushed last uses, at now.
func (c *cache) clear(now int64) {
	c.mu.Lock()
	c.gen++
	c.cleared = now
	clear(c.changed)
	for _, e := range c.byHash {
		c.dropLocked(e)
	}
	c.mu.Unlock()
	c.negMu.Lock()
	clear(c.neg)
	c.negMu.Unlock()
}

// unsettled reports whether userID's state may still be settling at now
// (see settleTime).
func (c *cache) unsettled(userID, now int64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	at, ok := c.changed[userID]
	return now-c.cleared < int64(settleTime) || (ok && now-at < int64(settleTime))
}

// dropLocked removes e, keeping its unflushed last use for the next flush.
func (c *cache) dropLocked(e *entry) {
	e.dropped.Store(true)
	if u := e.used.Load(); u > e.flushed.Load() {
		c.pending[e.key.ID] = max(c.pending[e.key.ID], u)
	}
	delete(c.byHash, e.hash)
	delete(c.byID, e.key.ID)
}

// unknown reports whether h was recently looked up and not found.
func (c *cache) unknown(h [32]byte, now int64) bool {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	until, ok := c.neg[h]
	if ok && now >= until {
		delete(c.neg, h)
		return false
	}
	return ok
}

// remember records h as unknown until until.
func (c *cache) remember(h [32]byte, now, until int64) {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	if len(c.neg) >= maxNegative {
		for k, u := range c.neg {
			if now >= u {
				delete(c.neg, k)
			}
		}
		if len(c.neg) >= maxNegative {
			clear(c.neg)
		}
	}
	c.neg[h] = until
}

// lastUsed returns the newest unflushed-or-cached use of id, unix ns, or 0.
func (c *cache) lastUsed(id string) int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u := c.pending[id]
	if e := c.byID[id]; e != nil {
		u = max(u, e.used.Load())
	}
	return u
}

// use is a last use due to be written, and the entry to mark once it is.
type use struct {
	e  *entry // nil for a use of a dropped entry
	id string
	at int64
}

// unflushed takes every use not yet written: the cached entries' (which stay
// cached) and the dropped entries' (which are handed over).
func (c *cache) unflushed() []use {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []use
	for id, e := range c.byID {
		if u := e.used.Load(); u > e.flushed.Load() {
			out = append(out, use{e: e, id: id, at: u})
		}
	}
	for id, u := range c.pending {
		out = append(out, use{id: id, at: u})
	}
	clear(c.pending)
	return out
}

// restore puts back uses whose write failed.
func (c *cache) restore(uses []use) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range uses {
		if u.e == nil {
			c.pending[u.id] = max(c.pending[u.id], u.at)
		}
	}
}
