package radius

import (
	"net/netip"
	"sync"
	"time"
)

// dedup remembers recent requests by (source, identifier, authenticator) so
// a retransmission gets the very response sent before (RFC 5080 §2.2.2)
// and a request still being worked on is not worked on twice.
//
// Entries live between one and two generations of half the window. Each
// shard keeps, per generation, at most dedupMax entries and their responses
// in a fixed arena, so memory is bounded (about 5 MiB) and the packet path
// allocates nothing for it; past the bounds, retransmissions are simply
// handled again.
type dedup struct {
	shards [16]dedupShard
	every  time.Duration
}

const (
	dedupMax   = 1024      // entries per shard and generation
	dedupArena = 160 << 10 // response bytes per shard and generation
)

type dedupKey struct {
	addr netip.AddrPort
	id   byte
	auth [16]byte
}

// span locates a cached response in its generation's arena; n 0 means the
// request is still being worked on.
type span struct {
	off uint32
	n   uint16
}

type dedupGen struct {
	m     map[dedupKey]span
	arena []byte
}

type dedupShard struct {
	mu        sync.Mutex
	cur, prev *dedupGen
	rotated   int64
	_         [32]byte
}

func newDedup(window time.Duration) *dedup {
	d := &dedup{every: window / 2}
	for i := range d.shards {
		d.shards[i].cur = &dedupGen{m: map[dedupKey]span{}}
		d.shards[i].prev = &dedupGen{m: map[dedupKey]span{}}
	}
	return d
}

func (d *dedup) shard(k *dedupKey) *dedupShard {
	return &d.shards[(uint(k.auth[0])^uint(k.auth[7])^uint(k.id))%uint(len(d.shards))]
}

// begin looks k up at now (unix ns). For a request answered before it
// copies the response into dst and returns it; for one being worked on it
// returns inProgress; otherwise it marks k in progress (when there is room)
// and returns neither.
func (d *dedup) begin(k *dedupKey, now int64, dst []byte) (resp []byte, inProgress bool) {
	s := d.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now-s.rotated >= int64(d.every) {
		s.prev, s.cur, s.rotated = s.cur, s.prev, now
		clear(s.cur.m)
		s.cur.arena = s.cur.arena[:0]
	}
	for _, g := range [2]*dedupGen{s.cur, s.prev} {
		if sp, ok := g.m[*k]; ok {
			if sp.n == 0 {
				return nil, true
			}
			return append(dst[:0], g.arena[sp.off:int(sp.off)+int(sp.n)]...), false
		}
	}
	if len(s.cur.m) < dedupMax {
		s.cur.m[*k] = span{}
	}
	return nil, false
}

// finish stores the response to k; an empty resp forgets k, so that a
// request that got no answer may be retried.
func (d *dedup) finish(k *dedupKey, resp []byte) {
	s := d.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.cur
	if _, ok := g.m[*k]; !ok {
		if g = s.prev; g.m == nil {
			return
		}
		if _, ok := g.m[*k]; !ok {
			return
		}
	}
	if g.arena == nil {
		g.arena = make([]byte, 0, dedupArena)
	}
	if len(resp) == 0 || len(g.arena)+len(resp) > cap(g.arena) {
		delete(g.m, *k)
		return
	}
	g.m[*k] = span{off: uint32(len(g.arena)), n: uint16(len(resp))}
	g.arena = append(g.arena, resp...)
}
