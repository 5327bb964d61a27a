package mesh

import (
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/meshwire"
)

// netState is the in-memory state of one network on this replica: its
// settings, its members with each one's encoded peer entry, the address
// pools, and the streams connected to it. Every view, stream and read of the
// network is served from it; the store is written first and the state
// follows (directly for this replica's changes, by events for the others').
//
// A change to one node costs O(streams of the network) to fan out and O(1)
// to apply: a node's view is never recomputed for others, because a view is
// just the concatenation of the other active members' cached entries.
type netState struct {
	id    int64  // the network's ID, fixed
	netid string // the network's NetID, fixed
	gid   int64  // the network's group, fixed

	mu      sync.RWMutex
	net     *Network // immutable; replaced on change
	nodesAt time.Time
	members map[int64]*member
	byMAC   map[string]*member
	// active holds the members that are peers (not pending), in view order;
	// member.slot indexes it. activeBytes is the sum of their entries.
	active      []*member
	activeBytes int
	pool4       *pool
	pool6       *pool
	seq         uint64 // counts changes applied; stamped on stream messages
	streams     []*Stream
	log         *changeLog
	push        pushSet
	// sums is the view digest of every active member (meshwire.ViewDigest):
	// a node's view's digest is sums less its own entry's.
	sums meshwire.BucketSums
	// snap caches the active members' entries for views until the next
	// change (nil: stale). snapMu serialises building it under a read lock.
	snap   atomic.Pointer[snapshot]
	snapMu sync.Mutex
	tombs  map[int64]time.Time // deleted node IDs, so a late event cannot revive one
}

// member is one node of a netState.
type member struct {
	node     *Node  // immutable; replaced on change
	entry    []byte // encoded meshwire.Peer; nil while pending
	digest   uint64 // meshwire.PeerDigest of entry
	slot     int    // index in active, -1 when not a peer
	streams  []*Stream
	lastSeen atomic.Int64
}

func newNetState(n *Network, logLimit int) *netState {
	return &netState{
		id:      n.ID,
		netid:   n.NetID,
		gid:     n.GroupID,
		net:     n,
		nodesAt: n.NodesModifiedAt,
		members: map[int64]*member{},
		byMAC:   map[string]*member{},
		pool4:   newPool(n.AddressRange),
		pool6:   newPool(n.AddressRange6),
		tombs:   map[int64]time.Time{},
		log:     newChangeLog(logLimit),
	}
}

// unlock releases the write lock taken to apply changes and wakes the
// streams they concern.
func (st *netState) unlock() {
	st.mu.Unlock()
	st.log.signal()
}

// network returns the network's current settings with its nodes-modified
// time. The caller holds mu.
func (st *netState) network() *Network {
	n := *st.net
	if st.nodesAt.After(n.NodesModifiedAt) {
		n.NodesModifiedAt = st.nodesAt
	}
	return &n
}

// nodeView returns m's node with this replica's newest check-in.
func (st *netState) nodeView(m *member) *Node {
	n := *m.node
	if ns := m.lastSeen.Load(); ns > 0 {
		if t := time.Unix(0, ns).UTC(); t.After(n.LastCheckIn) {
			n.LastCheckIn = t
		}
	}
	return &n
}

// touch raises the nodes-modified time.
func (st *netState) touch(at time.Time) {
	if at.After(st.nodesAt) {
		st.nodesAt = at
	}
}

// setNetwork applies new settings if n is newer than the current ones and
// tells every stream. The caller holds mu for writing.
func (st *netState) setNetwork(n *Network) bool {
	old := st.net
	if n.Revision <= old.Revision {
		return false
	}
	st.net = n
	st.touch(n.NodesModifiedAt)
	if n.AddressRange != old.AddressRange {
		st.pool4 = rebuildPool(newPool(n.AddressRange), st.members, func(x *Node) netip.Addr { return x.Address })
	}
	if n.AddressRange6 != old.AddressRange6 {
		st.pool6 = rebuildPool(newPool(n.AddressRange6), st.members, func(x *Node) netip.Addr { return x.Address6 })
	}
	st.seq++
	if n.KeyUpdateAt.After(old.KeyUpdateAt) {
		msg := appendHeader(nil, meshwire.MsgKeyUpdate, st.seq)
		msg = append(msg, `,"keyupdatetimestamp":`...)
		msg = strconv.AppendInt(msg, unix(n.KeyUpdateAt), 10)
		st.broadcastAll(append(msg, '}'))
	} else {
		msg := appendHeader(nil, meshwire.MsgNetwork, st.seq)
		msg = append(msg, `,"network":`...)
		msg = append(msg, mustJSON(st.network().Wire())...)
		st.broadcastAll(append(msg, '}'))
	}
	return true
}

func rebuildPool(p *pool, members map[int64]*member, addr func(*Node) netip.Addr) *pool {
	if p == nil {
		return nil
	}
	for id, m := range members {
		if a := addr(m.node); p.contains(a) {
			p.mark(a, id)
		}
	}
	return p
}

// putNode applies n if it is newer than what the state holds and fans the
// change out: the other active nodes' streams get the one-peer delta, n's own
// streams get its new record (or end, when n became a peer or stopped being
// one, so they resync). The caller holds mu for writing.
func (st *netState) putNode(n *Node) bool {
	m := st.members[n.ID]
	if m != nil && n.Revision <= m.node.Revision {
		return false
	}
	if m == nil {
		if _, dead := st.tombs[n.ID]; dead {
			return false
		}
		m = &member{slot: -1}
		st.members[n.ID] = m
	}
	old := m.node
	if old != nil {
		if old.MAC != n.MAC && st.byMAC[old.MAC] == m {
			delete(st.byMAC, old.MAC)
		}
		if old.Address != n.Address {
			st.pool4.release(old.Address, n.ID)
		}
		if old.Address6 != n.Address6 {
			st.pool6.release(old.Address6, n.ID)
		}
	}
	st.byMAC[n.MAC] = m
	st.pool4.mark(n.Address, n.ID)
	st.pool6.mark(n.Address6, n.ID)
	m.node = n
	st.touch(n.ModifiedAt)
	st.seq++

	var peerMsg, selfMsg []byte
	selfEnd := EndNone
	switch {
	case n.Pending && m.slot >= 0: // no longer a peer
		peerMsg = st.removeMsg(n)
		st.deactivate(m)
		selfEnd = EndResync
	case n.Pending:
		if old != nil && len(m.streams) > 0 {
			selfMsg = st.selfMsg(n)
		}
	case m.slot < 0: // becomes a peer
		st.activate(m, encodePeer(n))
		peerMsg = st.upsertMsg(m.entry)
		if old != nil {
			selfEnd = EndResync // its view goes from empty to full
		}
	default:
		if e := encodePeer(n); string(e) != string(m.entry) {
			st.snap.Store(nil)
			st.activeBytes += len(e) - len(m.entry)
			b := meshwire.BucketOf(n.ID)
			st.sums.Remove(b, m.digest)
			m.entry, m.digest = e, meshwire.PeerDigest(e)
			st.sums.Add(b, m.digest)
			peerMsg = st.upsertMsg(e)
		}
		if len(m.streams) > 0 {
			selfMsg = st.selfMsg(n)
		}
	}
	st.broadcast(m, peerMsg, selfMsg, selfEnd)
	return true
}

// dropNode removes node id, tells the other active nodes' streams and ends
// its own. at is when it was deleted. The caller holds mu for writing.
func (st *netState) dropNode(id int64, at time.Time) bool {
	st.tombs[id] = at
	st.pruneTombs(at)
	m := st.members[id]
	if m == nil {
		return false
	}
	n := m.node
	delete(st.members, id)
	if st.byMAC[n.MAC] == m {
		delete(st.byMAC, n.MAC)
	}
	st.pool4.release(n.Address, id)
	st.pool6.release(n.Address6, id)
	st.touch(at)
	st.seq++
	var peerMsg []byte
	if m.slot >= 0 {
		peerMsg = st.removeMsg(n)
		st.deactivate(m)
	}
	st.broadcast(m, peerMsg, nil, EndDeleted)
	return true
}

// tombTTL is how long a deleted node's ID is remembered: far longer than any
// event takes between replicas.
const tombTTL = 10 * time.Minute

func (st *netState) pruneTombs(now time.Time) {
	if len(st.tombs) < 1024 {
		return
	}
	for id, at := range st.tombs {
		if now.Sub(at) > tombTTL {
			delete(st.tombs, id)
		}
	}
}

func (st *netState) activate(m *member, entry []byte) {
	st.snap.Store(nil)
	m.entry, m.digest = entry, meshwire.PeerDigest(entry)
	st.sums.Add(meshwire.BucketOf(m.node.ID), m.digest)
	m.slot = len(st.active)
	st.active = append(st.active, m)
	st.activeBytes += len(entry)
}

// deactivate removes m from active in O(1) by moving the last member into
// its slot.
func (st *netState) deactivate(m *member) {
	st.snap.Store(nil)
	i, last := m.slot, len(st.active)-1
	st.active[i] = st.active[last]
	st.active[i].slot = i
	st.active[last] = nil
	st.active = st.active[:last]
	st.activeBytes -= len(m.entry)
	st.sums.Remove(meshwire.BucketOf(m.node.ID), m.digest)
	m.slot, m.entry, m.digest = -1, nil, 0
}

// peersOf returns m's view: every other active member's entry, or none
// while m is pending. The entries come from a snapshot of the network shared
// by every view until the next change, so a view costs O(1) here and one
// copy of the entries when written out (after mu is released: the snapshot
// is immutable). The caller holds mu.
func (st *netState) peersOf(m *member) PeerList {
	if m.slot < 0 {
		return PeerList{skip: -1}
	}
	return PeerList{snap: st.snapshot(), skip: m.slot}
}

// staleBuckets compares held, the digest of the view a reconnecting node
// holds, with m's current view and returns the buckets that differ with
// their current sums. The caller holds mu; m is active.
func (st *netState) staleBuckets(m *member, held *meshwire.ViewDigest) (stale []int, sums []uint64) {
	own := meshwire.BucketOf(m.node.ID)
	stale = []int{}
	for b, sum := range st.sums {
		if b == own {
			sum -= m.digest
		}
		if sum != held.Sums[b] {
			stale, sums = append(stale, b), append(sums, sum)
		}
	}
	return stale, sums
}

// mark is the view's mark (meshwire.ViewDigest): the newest change applied,
// in Unix microseconds. The caller holds mu.
func (st *netState) mark() int64 { return st.nodesAt.UnixMicro() }

// snapshot is the active members' entries in slot order, with each one's
// node ID, meshwire.BucketOf and modification time (Unix microseconds).
type snapshot struct {
	entries  [][]byte
	ids      []int64
	buckets  []uint8
	modified []int64

	indexOnce sync.Once
	byBucket  [meshwire.ViewBuckets][]int32 // slots per bucket, built on first use
}

// bucket returns the slots of bucket b.
func (s *snapshot) bucket(b int) []int32 {
	s.indexOnce.Do(func() {
		for i, k := range s.buckets {
			s.byBucket[k] = append(s.byBucket[k], int32(i))
		}
	})
	return s.byBucket[b]
}

func (st *netState) snapshot() *snapshot {
	if s := st.snap.Load(); s != nil {
		return s
	}
	st.snapMu.Lock()
	defer st.snapMu.Unlock()
	if s := st.snap.Load(); s != nil {
		return s
	}
	n := len(st.active)
	s := &snapshot{entries: make([][]byte, n), ids: make([]int64, n), buckets: make([]uint8, n), modified: make([]int64, n)}
	for i, o := range st.active {
		s.entries[i] = o.entry
		s.ids[i] = o.node.ID
		s.buckets[i] = uint8(meshwire.BucketOf(o.node.ID))
		s.modified[i] = o.node.ModifiedAt.UnixMicro()
	}
	st.snap.Store(s)
	return s
}

// peerNodesOf is peersOf as nodes, for the wg-quick configuration.
func (st *netState) peerNodesOf(m *member) []*Node {
	if m.slot < 0 {
		return nil
	}
	out := make([]*Node, 0, len(st.active)-1)
	for _, o := range st.active {
		if o != m {
			out = append(out, o.node)
		}
	}
	return out
}

// reserve takes addresses for a node about to be created or re-addressed:
// want4 (or the next free one when invalid), and an IPv6 one when the
// network has a range (want6 or the next free). owner is the node's ID, or
// ownerReserved for a node not yet created. The caller holds mu for writing
// and must release what it got with unreserve if the change does not commit.
func (st *netState) reserve(want4, want6 netip.Addr, owner int64) (a4, a6 netip.Addr, err error) {
	if want4.IsValid() {
		if !st.pool4.contains(want4) {
			return a4, a6, invalidField("address", "address must be a host address of the network's addressrange "+st.net.AddressRange.String())
		}
		if !st.pool4.claim(want4, owner) {
			return a4, a6, conflictField("address", "address "+want4.String()+" is already in use")
		}
		a4 = want4
	} else {
		var ok bool
		if a4, ok = st.pool4.take(owner); !ok {
			return a4, a6, conflictField("address", "the network's addressrange "+st.net.AddressRange.String()+" is full")
		}
	}
	if st.pool6 == nil {
		if want6.IsValid() {
			st.pool4.release(a4, owner)
			return netip.Addr{}, a6, invalidField("address6", "the network has no addressrange6")
		}
		return a4, a6, nil
	}
	if want6.IsValid() {
		if !st.pool6.contains(want6) || !st.pool6.claim(want6, owner) {
			st.pool4.release(a4, owner)
			return netip.Addr{}, a6, conflictField("address6", "address6 "+want6.String()+" is outside addressrange6 or in use")
		}
		return a4, want6, nil
	}
	var ok bool
	if a6, ok = st.pool6.take(owner); !ok {
		st.pool4.release(a4, owner)
		return netip.Addr{}, a6, conflictField("address6", "the network's addressrange6 is full")
	}
	return a4, a6, nil
}

// unreserve releases addresses reserve handed out for a change that did not
// commit. The caller holds mu for writing.
func (st *netState) unreserve(a4, a6 netip.Addr, owner int64) {
	st.pool4.release(a4, owner)
	st.pool6.release(a6, owner)
}
