package radius

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// epShard holds the stations whose key hashes to it. Records are stored by
// value in one slice, reached through a map of slot numbers, and hold no
// pointers: for 100,000 stations this is about half the memory of a map of
// pointers to records, and the garbage collector does not scan any of it.
//
// The map and the records' fields are written under the write lock. The
// last-seen counters are also raised by readers holding the read lock, so
// they are only accessed atomically.
type epShard struct {
	mu   sync.RWMutex
	m    map[epKey]uint32 // station → slot in recs
	recs []endpointEntry
	free []uint32 // slots of removed stations, for reuse
	_    [48]byte // 128 bytes in all: shards never share a cache line
}

// endpointEntry is one station's binding: a stored endpoint, or an
// auto-enrolment not stored yet (id 0). pskID 0 marks a free slot. Times
// are unix seconds in 32 bits (good until 2106), which keeps a record at 32
// bytes.
type endpointEntry struct {
	id      int64
	pskID   int64
	expires uint32 // 0: never
	seen    uint32 // atomic
	flushed uint32 // the seen time last written to the store; atomic
	vlan    uint16 // overrides the PSK's when not 0
	enabled bool
}

func newEndpointEntry(e Endpoint) endpointEntry {
	n := endpointEntry{id: e.ID, pskID: e.PSKID, vlan: uint16(e.VLAN), enabled: e.Enabled}
	if !e.ExpiresAt.IsZero() {
		n.expires = unixSeconds32(e.ExpiresAt)
	}
	return n
}

// unixSeconds32 is t in unix seconds, clamped to 1 .. 2^32-1 so that 0
// keeps meaning "never" and a time before 1970 is already past.
func unixSeconds32(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 1), math.MaxUint32))
}

// reset empties s, sized for n stations; the write lock is held or s is not
// shared yet.
func (s *epShard) reset(n int) {
	s.m = make(map[epKey]uint32, n)
	s.recs = make([]endpointEntry, 0, n)
	s.free = nil
}

// getLocked returns the station's record; a lock is held. The record's
// counters must be read with atomic loads while only the read lock is held.
func (s *epShard) getLocked(k epKey) (*endpointEntry, bool) {
	i, ok := s.m[k]
	if !ok {
		return nil, false
	}
	return &s.recs[i], true
}

// putLocked sets the station's record, keeping the later of the last-seen
// times of the old record and e; it reports whether the station is new. The
// write lock is held.
func (s *epShard) putLocked(k epKey, e endpointEntry) (added bool) {
	if i, ok := s.m[k]; ok {
		r := &s.recs[i]
		e.seen = max(e.seen, atomic.LoadUint32(&r.seen))
		e.flushed = max(e.flushed, atomic.LoadUint32(&r.flushed))
		*r = e
		return false
	}
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.recs[i] = e
		s.m[k] = i
		return true
	}
	s.m[k] = uint32(len(s.recs))
	s.recs = append(s.recs, e)
	return true
}

// removeLocked deletes the station and returns its record; the write lock
// is held.
func (s *epShard) removeLocked(k epKey) (endpointEntry, bool) {
	i, ok := s.m[k]
	if !ok {
		return endpointEntry{}, false
	}
	e := s.recs[i]
	s.recs[i] = endpointEntry{}
	delete(s.m, k)
	s.free = append(s.free, i)
	return e, true
}

// raiseSeen sets the station's last-seen time to t unless it is later
// already; the read lock is enough.
func (s *epShard) raiseSeen(k epKey, t uint32) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.getLocked(k)
	if !ok {
		return
	}
	for {
		old := atomic.LoadUint32(&r.seen)
		if old >= t || atomic.CompareAndSwapUint32(&r.seen, old, t) {
			return
		}
	}
}
