package mesh

import (
	"math"
	"net/netip"
)

// autoRanges is where networks created without an addressrange get theirs:
// the shared address space of RFC 6598, /24 by /24.
var autoRanges = netip.MustParsePrefix("100.64.0.0/10")

// freeRange24 returns the first /24 of autoRanges that overlaps none of taken.
func freeRange24(taken []netip.Prefix) (netip.Prefix, bool) {
	a := autoRanges.Addr()
	for autoRanges.Contains(a) {
		cand := netip.PrefixFrom(a, 24)
		free := true
		for _, t := range taken {
			if overlaps(cand, t) {
				free = false
				break
			}
		}
		if free {
			return cand, true
		}
		b := a.As4()
		b[2]++
		if b[2] == 0 {
			b[1]++
		}
		a = netip.AddrFrom4(b)
	}
	return netip.Prefix{}, false
}

// Owners recorded in a pool besides node IDs.
const (
	ownerReserved = 0  // taken by a join or update that has not committed yet
	ownerForeign  = -1 // taken by another replica (a unique violation said so); its event will tell whom
)

// pool allocates the host addresses of one range. It is not safe for
// concurrent use: the network state's lock guards it.
//
// Allocation scans from a cursor that moves past each address handed out,
// so it is O(1) amortised while the range has room: among len(used)+1
// consecutive candidates at least one is free.
type pool struct {
	prefix      netip.Prefix
	first, last netip.Addr
	cursor      netip.Addr
	used        map[netip.Addr]int64
}

// newPool returns a pool of p's host addresses: for IPv4 without the network
// and broadcast addresses, for IPv6 without the subnet-router anycast.
func newPool(p netip.Prefix) *pool {
	if !p.IsValid() {
		return nil
	}
	first := p.Addr().Next()
	last := lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev()
	}
	return &pool{prefix: p, first: first, last: last, cursor: first, used: map[netip.Addr]int64{}}
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// capacity is the number of allocatable addresses, saturated at MaxInt.
func (p *pool) capacity() int {
	hostBits := p.prefix.Addr().BitLen() - p.prefix.Bits()
	if hostBits >= 62 {
		return math.MaxInt
	}
	n := 1<<hostBits - 1
	if p.prefix.Addr().Is4() {
		n--
	}
	return n
}

// contains reports whether a may be allocated from p.
func (p *pool) contains(a netip.Addr) bool {
	return p.prefix.Contains(a) && a.Compare(p.first) >= 0 && a.Compare(p.last) <= 0
}

// take allocates the next free address for owner; false when p is full.
func (p *pool) take(owner int64) (netip.Addr, bool) {
	tries := len(p.used) + 1
	if c := p.capacity(); c <= len(p.used) {
		return netip.Addr{}, false
	} else if c < tries {
		tries = c
	}
	a := p.cursor
	for range tries {
		next := a.Next()
		if !next.IsValid() || next.Compare(p.last) > 0 {
			next = p.first
		}
		if _, taken := p.used[a]; !taken {
			p.used[a] = owner
			p.cursor = next
			return a, true
		}
		a = next
	}
	return netip.Addr{}, false
}

// mark records a as owner's, whoever had it before.
func (p *pool) mark(a netip.Addr, owner int64) {
	if p != nil && a.IsValid() {
		p.used[a] = owner
	}
}

// claim takes a for owner if it is free or already owner's.
func (p *pool) claim(a netip.Addr, owner int64) bool {
	if cur, taken := p.used[a]; taken && cur != owner {
		return false
	}
	p.used[a] = owner
	return true
}

// release frees a if owner holds it.
func (p *pool) release(a netip.Addr, owner int64) {
	if p == nil || !a.IsValid() {
		return
	}
	if cur, ok := p.used[a]; ok && cur == owner {
		delete(p.used, a)
	}
}

// netipZero is the invalid address: "allocate the next free one".
var netipZero netip.Addr
