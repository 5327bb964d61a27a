package radius

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
	"time"
)

// dedup remembers recent requests by (source, identifier, authenticator) so
// a retransmission gets the very response sent before (RFC 5080 §2.2.2)
// and a request still being worked on is not worked on twice.
//
// Entries live between one and two generations of half the window. Each
// shard keeps, per generation, at most dedupMax entries, keyed by a 64-bit
// hash of the request, and their responses in a fixed arena, each response
// preceded by the request's full key: a cached response is only ever
// returned for the very request it answers, and a hash collision merely
// means a request is handled again. Memory is bounded (about 0.6 MiB) and
// the packet path allocates nothing for it; past the bounds, retransmissions
// are simply handled again.
type dedup struct {
	shards [4]dedupShard
	every  time.Duration
}

const (
	dedupMax   = 448      // entries per shard and generation: 7/8 of a 512-slot map
	dedupArena = 64 << 10 // key and response bytes per shard and generation (about 450 MAC-auth answers)
	keyLen     = 16 + 2 + 1 + 16
)

type dedupKey struct {
	addr netip.AddrPort
	id   byte
	auth [16]byte
}

// bytes is k as stored in the arena.
func (k *dedupKey) bytes() [keyLen]byte {
	var b [keyLen]byte
	a := k.addr.Addr().As16()
	copy(b[:16], a[:])
	binary.BigEndian.PutUint16(b[16:18], k.addr.Port())
	b[18] = k.id
	copy(b[19:], k.auth[:])
	return b
}

// hash mixes k into 64 bits. The authenticator is 128 random bits chosen
// by the NAS, so it carries most of the entropy.
func (k *dedupKey) hash() uint64 {
	a := k.addr.Addr().As16()
	h := binary.LittleEndian.Uint64(k.auth[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(k.auth[8:]), 31)
	h ^= (binary.LittleEndian.Uint64(a[:8]) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(a[8:]), 17)) * 0x9E3779B97F4A7C15
	h ^= (uint64(k.addr.Port())<<8 | uint64(k.id)) * 0xC2B2AE3D27D4EB4F
	return h ^ h>>29
}

// span locates a cached key and response in its generation's arena; n 0
// means the request is still being worked on.
type span struct {
	off uint32
	n   uint16
}

type dedupGen struct {
	m     map[uint64]span
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
		d.shards[i].cur = &dedupGen{m: make(map[uint64]span, dedupMax)}
		d.shards[i].prev = &dedupGen{m: make(map[uint64]span, dedupMax)}
	}
	return d
}

func (d *dedup) shard(h uint64) *dedupShard {
	return &d.shards[h>>62]
}

// begin looks k up at now (unix ns). For a request answered before it
// copies the response into dst and returns it; for one being worked on it
// returns inProgress; otherwise it marks k in progress (when there is room)
// and returns neither.
func (d *dedup) begin(k *dedupKey, now int64, dst []byte) (resp []byte, inProgress bool) {
	h := k.hash()
	s := d.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now-s.rotated >= int64(d.every) {
		s.prev, s.cur, s.rotated = s.cur, s.prev, now
		clear(s.cur.m)
		s.cur.arena = s.cur.arena[:0]
	}
	for _, g := range [2]*dedupGen{s.cur, s.prev} {
		sp, ok := g.m[h]
		if !ok {
			continue
		}
		if sp.n == 0 {
			return nil, true
		}
		kb := k.bytes()
		rec := g.arena[sp.off : int(sp.off)+keyLen+int(sp.n)]
		if [keyLen]byte(rec[:keyLen]) != kb {
			return nil, false // another request with the same hash: handle this one afresh
		}
		return append(dst[:0], rec[keyLen:]...), false
	}
	if len(s.cur.m) < dedupMax {
		s.cur.m[h] = span{}
	}
	return nil, false
}

// finish stores the response to k; an empty resp forgets k, so that a
// request that got no answer may be retried.
func (d *dedup) finish(k *dedupKey, resp []byte) {
	h := k.hash()
	s := d.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.cur
	sp, ok := g.m[h]
	if !ok {
		g = s.prev
		if sp, ok = g.m[h]; !ok {
			return
		}
	}
	if sp.n != 0 {
		return // the colliding request's cached response stays
	}
	if g.arena == nil {
		g.arena = make([]byte, 0, dedupArena)
	}
	if len(resp) == 0 || len(g.arena)+keyLen+len(resp) > cap(g.arena) {
		delete(g.m, h)
		return
	}
	kb := k.bytes()
	g.m[h] = span{off: uint32(len(g.arena)), n: uint16(len(resp))}
	g.arena = append(g.arena, kb[:]...)
	g.arena = append(g.arena, resp...)
}
