package radius

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/radius/wpa"
)

// pmkQueue is an unbounded, deduplicated queue of PMKs to derive. It also
// knows which PSKs of each (group, SSID) are still waiting, so a
// handshake that matches nothing can tell whether its PSK may be one of
// them (Pending).
type pmkQueue struct {
	mu       sync.Mutex
	items    []keyID
	queued   map[keyID]int64 // → the PSK's group when queued
	byBucket map[bucketID]map[int64]struct{}
	wake     chan struct{}
	closed   bool
}

func newPMKQueue() *pmkQueue {
	return &pmkQueue{queued: map[keyID]int64{}, byBucket: map[bucketID]map[int64]struct{}{}, wake: make(chan struct{}, 1)}
}

func (q *pmkQueue) push(id keyID, group int64) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if _, ok := q.queued[id]; !ok {
		q.queued[id] = group
		q.items = append(q.items, id)
		bid := bucketID{group, id.ssid}
		if q.byBucket[bid] == nil {
			q.byBucket[bid] = map[int64]struct{}{}
		}
		q.byBucket[bid][id.psk] = struct{}{}
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// doneLocked forgets id; it reports whether id was queued.
func (q *pmkQueue) doneLocked(id keyID) bool {
	group, ok := q.queued[id]
	if !ok {
		return false
	}
	delete(q.queued, id)
	bid := bucketID{group, id.ssid}
	if set := q.byBucket[bid]; set != nil {
		delete(set, id.psk)
		if len(set) == 0 {
			delete(q.byBucket, bid)
		}
	}
	return true
}

// take removes id from the queue: it is being derived on demand.
func (q *pmkQueue) take(id keyID) {
	q.mu.Lock()
	q.doneLocked(id)
	q.mu.Unlock()
}

// popUpTo appends up to n ids to dst, waiting for the first; ok false
// after close.
func (q *pmkQueue) popUpTo(dst []keyID, n int) ([]keyID, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return dst, false
		}
		got := 0
		for len(q.items) > 0 && got < n {
			id := q.items[0]
			q.items = q.items[1:]
			if q.doneLocked(id) { // else taken meanwhile
				dst = append(dst, id)
				got++
			}
		}
		if got > 0 {
			q.mu.Unlock()
			return dst, true
		}
		q.items = nil
		q.mu.Unlock()
		<-q.wake
	}
}

func (q *pmkQueue) pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queued)
}

// pendingIn returns how many PSKs of b wait, and their ids when at most
// max.
func (q *pmkQueue) pendingIn(b bucketID, max int) (int, []int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	set := q.byBucket[b]
	if len(set) == 0 || len(set) > max {
		return len(set), nil
	}
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	return len(set), ids
}

func (q *pmkQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.wake)
}

// derive computes queued PMKs with half the CPUs, installs them and stores
// them in batches (with those derived on demand, see Derive). One PBKDF2
// (4096 rounds of HMAC-SHA1, both output blocks side by side) takes about
// 0.5-0.7 ms on one core with the SHA extensions, 0.12 ms where eight go
// through the AVX-512 lanes together (wpa.PMKBatch), so a worker takes
// that many from the queue at a time; on 2 cores one worker derives
// 100,000 PMKs in 12 s of CPU with AVX-512 (about a minute without) and
// leaves the other core to the packet path, which must keep answering
// while a bulk import is derived.
func (x *Index) derive() {
	defer x.wg.Done()
	workers := max(1, runtime.GOMAXPROCS(0)/2)
	per := wpa.PMKBatch()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			ids := make([]keyID, 0, per)
			jobs := make([]wpa.PMKJob, 0, per)
			creds := make([]*Credential, 0, per)
			for {
				var ok bool
				ids, ok = x.pmkq.popUpTo(ids[:0], per)
				if !ok {
					return
				}
				jobs, creds = x.deriveBatch(ids, jobs[:0], creds[:0])
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var batch []SealedPMK
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case sp := <-x.sealed:
			batch = append(batch, sp)
			if len(batch) >= 500 {
				x.storePMKs(batch)
				batch = batch[:0]
			}
		case <-tick.C:
			x.storePMKs(batch)
			batch = batch[:0]
		case <-done:
		drain:
			for {
				select {
				case sp := <-x.sealed:
					batch = append(batch, sp)
				default:
					break drain
				}
			}
			x.storePMKs(batch)
			return
		}
	}
}

// deriveBatch derives, installs and queues for storing the PMKs of ids
// that still need one (the PSK exists and has no key for its current
// passphrase); jobs and creds are scratch, returned for reuse.
func (x *Index) deriveBatch(ids []keyID, jobs []wpa.PMKJob, creds []*Credential) ([]wpa.PMKJob, []*Credential) {
	for _, id := range ids {
		c := x.cred(id.psk)
		if c == nil {
			continue
		}
		x.mu.Lock()
		e := x.keys[id]
		x.mu.Unlock()
		if e != nil && e.passphrase == c.Passphrase {
			continue
		}
		jobs = append(jobs, wpa.PMKJob{Passphrase: c.Passphrase, SSID: []byte(id.ssid)})
		creds = append(creds, c)
	}
	wpa.DerivePMKs(jobs)
	for i, j := range jobs {
		c, ssid := creds[i], string(j.SSID)
		if j.Err != nil {
			x.log.Warn("cannot derive a PMK", "psk", c.PSKID, "ssid", ssid, "error", j.Err)
			continue
		}
		x.installKey(c, ssid, wpa.NewKey(j.PMK))
		x.queueSeal(c, ssid, j.PMK, true)
	}
	clear(jobs) // passphrases and PMKs do not outlive the batch
	clear(creds)
	return jobs, creds
}

// queueSeal seals a derived PMK and hands it to the batches derive
// stores, waiting for room when wait is set; one that finds no room is
// not stored, only derived again after a restart.
func (x *Index) queueSeal(c *Credential, ssid string, pmk [wpa.PMKLen]byte, wait bool) {
	if x.pmks == nil || x.seal == nil {
		return
	}
	sp, err := sealPMK(x.seal, c, ssid, pmk)
	if err != nil {
		x.log.Warn("sealing a PMK", "psk", c.PSKID, "error", err)
		return
	}
	if !wait {
		select {
		case x.sealed <- sp:
		default:
		}
		return
	}
	select {
	case x.sealed <- sp:
	case <-x.life.Done():
	}
}

func (x *Index) storePMKs(batch []SealedPMK) {
	if len(batch) == 0 || x.pmks == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.life), 30*time.Second)
	defer cancel()
	if err := x.pmks.InTx(ctx, func(tx PMKTx) error { return tx.PutRadiusPMKs(ctx, batch) }); err != nil {
		x.log.Warn("storing PMKs; they stay in memory and are derived again after a restart", "count", len(batch), "error", err)
	}
}

// binder stores auto-enrolments.
func (x *Index) binder() {
	defer x.wg.Done()
	for {
		select {
		case <-x.life.Done():
			return
		case j := <-x.binds:
			if x.src == nil {
				continue
			}
			x.bind(j)
		}
	}
}

// bind stores one auto-enrolment and installs the stored endpoint; bindMu
// keeps a reload from replacing the shards in between (see Index.bindMu).
func (x *Index) bind(j bindJob) {
	x.bindMu.Lock()
	defer x.bindMu.Unlock()
	ctx, cancel := context.WithTimeout(x.life, 10*time.Second)
	e, err := x.src.BindEndpoint(ctx, j.group, j.psk, j.mac)
	cancel()
	switch {
	case err == nil:
		x.mu.Lock()
		x.putEndpointLocked(e)
		x.mu.Unlock()
	case fault.Is(err, fault.Conflict):
		// Bound meanwhile (another replica, the API): its event brings the
		// stored binding.
	default:
		x.log.Warn("storing an auto-enrolled endpoint", "mac", j.mac.String(), "error", err)
	}
}

// putEndpointLocked installs a stored endpoint; x.mu is held.
func (x *Index) putEndpointLocked(e Endpoint) {
	k := epKey{e.GroupID, e.MAC}
	s := x.epShard(k)
	s.mu.Lock()
	if s.putLocked(k, newEndpointEntry(e)) {
		x.endpoints.Add(1)
	}
	s.mu.Unlock()
	x.maxEpID = max(x.maxEpID, e.ID)
}

// flusher writes last-seen times every flush interval and once at Close.
func (x *Index) flusher() {
	defer x.wg.Done()
	t := time.NewTicker(x.flushEv)
	defer t.Stop()
	for {
		select {
		case <-x.life.Done():
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = x.FlushSeen(ctx)
			cancel()
			return
		case <-t.C:
			n, err := x.flushSeen(x.life)
			if err != nil {
				x.log.Warn("recording endpoint last-seen times", "error", err)
			}
			if n >= bulkFlush {
				// Writing that many rows leaves garbage several times the
				// size of the directory, which would otherwise stay
				// resident until the scavenger gets to it: give it back at
				// once, as Start does after loading. One full collection
				// at most once a flush interval, never on the packet path.
				debug.FreeOSMemory()
			}
		}
	}
}

// bulkFlush is the number of last-seen rows written in one flush past
// which the flusher returns the garbage to the OS.
const bulkFlush = 10_000

// seenResolution is how far last_seen may lag: an endpoint is written again
// only once it was seen this much later than its stored time, so 100,000
// busy stations cost at most 100,000 row updates a minute.
const seenResolution = 60

// seenChunk bounds one TouchEndpoints call, so a flush of many stations
// never builds one huge transaction.
const seenChunk = 5000

// FlushSeen writes the last-seen times recorded since the previous flush
// (those that moved by seenResolution seconds or more), in chunks.
func (x *Index) FlushSeen(ctx context.Context) error {
	_, err := x.flushSeen(ctx)
	return err
}

// flushSeen is FlushSeen, returning how many rows it wrote.
//
// It writes while it walks the shards, a chunk at a time, through one
// slice of marks and one map reused for every chunk: after a busy minute
// 100,000 stations are due at once, and collecting them all before writing
// would allocate several megabytes of garbage per flush that stays
// resident until the next collection.
func (x *Index) flushSeen(ctx context.Context) (written int, err error) {
	if x.src == nil {
		return 0, nil
	}
	x.flushMu.Lock()
	defer x.flushMu.Unlock()
	marks := make([]seenMark, 0, seenChunk)
	seen := make(map[int64]time.Time, seenChunk)
	write := func(chunk []seenMark) error {
		clear(seen)
		for _, m := range chunk {
			seen[m.id] = time.Unix(int64(m.at), 0).UTC()
		}
		if err := x.src.TouchEndpoints(ctx, seen); err != nil {
			return err
		}
		written += len(chunk)
		x.markFlushed(chunk)
		return nil
	}
	for i := range x.eps {
		marks = x.eps[i].dueSeen(uint32(i), marks)
		// A shard holds fewer stations than a chunk in the common case;
		// a larger one is written in several.
		for len(marks) >= seenChunk {
			if err := write(marks[:seenChunk]); err != nil {
				return written, err
			}
			marks = marks[:copy(marks, marks[seenChunk:])]
		}
	}
	if len(marks) > 0 {
		if err := write(marks); err != nil {
			return written, err
		}
	}
	return written, nil
}

// seenMark names a record due for a last-seen write by shard and slot; a
// reload or removal may reuse the slot meanwhile, so the id is checked
// before the record is marked flushed (one not marked is merely written
// again).
type seenMark struct {
	shard, slot uint32
	id          int64
	at          uint32
}

// dueSeen appends the marks of s's records whose last-seen time moved
// since it was last written (by seenResolution or more once written).
func (s *epShard) dueSeen(shard uint32, marks []seenMark) []seenMark {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for slot := range s.recs {
		r := &s.recs[slot]
		at, f := atomic.LoadUint32(&r.seen), atomic.LoadUint32(&r.flushed)
		if r.id != 0 && at > f && (f == 0 || at-f >= seenResolution) {
			marks = append(marks, seenMark{shard, uint32(slot), r.id, at})
		}
	}
	return marks
}

// markFlushed records that the marked times are stored.
func (x *Index) markFlushed(chunk []seenMark) {
	for _, m := range chunk {
		s := &x.eps[m.shard]
		s.mu.RLock()
		if int(m.slot) < len(s.recs) && s.recs[m.slot].id == m.id {
			r := &s.recs[m.slot]
			for {
				f := atomic.LoadUint32(&r.flushed)
				if f >= m.at || atomic.CompareAndSwapUint32(&r.flushed, f, m.at) {
					break
				}
			}
		}
		s.mu.RUnlock()
	}
}
