package mesh

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"netkeep/internal/meshwire"
)

// EndReason says why the server ended a stream; transports map it to a close
// code (see the package documentation).
type EndReason int32

// The reasons.
const (
	EndNone     EndReason = iota
	EndResync             // fell behind, or its node became or stopped being a peer: reconnect for a full view
	EndDeleted            // its node was deleted: stop
	EndShutdown           // the server is stopping: reconnect with backoff
	EndClosed             // the consumer closed it
)

func (r EndReason) String() string {
	return [...]string{"none", "resync", "deleted", "shutdown", "closed"}[r]
}

// ErrStreamEnded is returned by Stream.Next once the stream has ended;
// Stream.Reason says why.
var ErrStreamEnded = errors.New("mesh: stream ended")

// DefaultStreamBuffer is how many changes a stream's consumer may fall
// behind: the network's change log keeps that many. A consumer further
// behind is dropped with EndResync rather than buffered without bound.
const DefaultStreamBuffer = 1024

// Stream is one node's subscription to its network's changes. It starts
// with a full view (Full) taken atomically with the subscription, then
// yields, in order, the message of every change that concerns the node,
// each stamped with the network's sequence number at that change. Messages
// are shared between streams: never modify one.
//
// A stream holds no queue: it is a cursor into the network's change log
// (see changeLog), so a change costs the server O(1) however many nodes are
// subscribed, and an idle stream costs a few hundred bytes.
type Stream struct {
	st     *netState
	member *member
	// active is whether the node was a peer when the stream began. It
	// cannot change while the stream lives: becoming or ceasing to be a
	// peer ends the node's streams.
	active bool
	slot   int // index in st.streams; guarded by st.mu

	mu     sync.Mutex // guards cursor and full: one consumer at a time
	cursor uint64     // next log position to read
	full   *FullView

	done   chan struct{}
	reason atomic.Int32
	once   sync.Once
	ready  atomic.Pointer[func()] // set by Push
}

// Full returns the stream's first message, once: the view is released after
// it is taken, so a long-lived stream does not pin a snapshot of its network.
func (s *Stream) Full() *FullView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.full
	s.full = nil
	return v
}

// NodeID is the subscribed node.
func (s *Stream) NodeID() int64 { return s.member.node.ID }

// Done is closed when the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Reason says why the stream ended (EndNone while it runs).
func (s *Stream) Reason() EndReason { return EndReason(s.reason.Load()) }

// TryNext returns the next message for the stream if one is waiting. When
// none is, it returns a nil message and a channel closed at the next change:
// wait on it (and on Done), then call TryNext again. After the stream ended
// it returns ErrStreamEnded.
func (s *Stream) TryNext() (msg []byte, wait <-chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		select {
		case <-s.done:
			return nil, nil, ErrStreamEnded
		default:
		}
		e, wake, behind := s.st.log.read(s.cursor)
		if behind {
			s.st.endAsync(s, EndResync)
			return nil, nil, ErrStreamEnded
		}
		if e == nil {
			return nil, wake, nil
		}
		s.cursor++
		switch {
		case e.to == toAll,
			e.to == toPeers && s.active && e.subject != s.member,
			e.to == toSubject && e.subject == s.member:
			return e.msg, nil, nil
		}
	}
}

// Next returns the next message, waiting for one. After the stream ends it
// returns ErrStreamEnded; when ctx ends first, ctx's error.
func (s *Stream) Next(ctx context.Context) ([]byte, error) {
	for {
		msg, wait, err := s.TryNext()
		if err != nil || msg != nil {
			return msg, err
		}
		select {
		case <-wait:
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close ends the stream and unsubscribes it. It is idempotent.
func (s *Stream) Close() {
	s.st.mu.Lock()
	s.st.endLocked(s, EndClosed)
	s.st.mu.Unlock()
}

// finish marks the stream ended once.
func (s *Stream) finish(r EndReason) {
	s.once.Do(func() {
		s.reason.Store(int32(r))
		close(s.done)
		if ready := s.ready.Load(); ready != nil {
			(*ready)()
		}
	})
}

// attach subscribes a new stream for m and takes its full view, both under
// the caller's write lock so no change falls between them. With held (the
// digest of the view the node holds) and m active, the first message is a
// sync of the buckets that differ instead, unless most do.
func (st *netState) attach(m *member, held *meshwire.ViewDigest) *Stream {
	s := &Stream{st: st, member: m, active: m.slot >= 0, slot: len(st.streams), done: make(chan struct{})}
	s.cursor = st.log.end()
	st.streams = append(st.streams, s)
	m.streams = append(m.streams, s)
	net := st.network()
	s.full = &FullView{
		Seq:     st.seq,
		network: mustJSON(net.Wire()),
		self:    mustJSON(st.nodeView(m).Wire(net)),
		peers:   st.peersOf(m),
	}
	s.full.Mark = st.mark()
	if held != nil && m.slot >= 0 {
		if stale, sums := st.staleBuckets(m, held); len(stale) <= meshwire.ViewBuckets/2 {
			s.full.sync(stale, sums, held.Mark)
		}
	}
	return s
}

// endLocked ends s and unsubscribes it in O(1). The caller holds st.mu for
// writing.
func (st *netState) endLocked(s *Stream, r EndReason) {
	s.finish(r)
	i := s.slot
	if i < 0 || i >= len(st.streams) || st.streams[i] != s {
		return
	}
	last := len(st.streams) - 1
	st.streams[i] = st.streams[last]
	st.streams[i].slot = i
	st.streams[last] = nil
	st.streams = st.streams[:last]
	s.slot = -1
	st.unpush(s)
	ms := s.member.streams
	for j, o := range ms {
		if o == s {
			ms[j] = ms[len(ms)-1]
			ms[len(ms)-1] = nil
			s.member.streams = ms[:len(ms)-1]
			break
		}
	}
}

// endAsync ends s from its consumer, which holds s.mu but not st.mu: the
// stream stops at once and is unsubscribed without waiting for st.mu.
func (st *netState) endAsync(s *Stream, r EndReason) {
	s.finish(r)
	go func() {
		st.mu.Lock()
		st.endLocked(s, r)
		st.mu.Unlock()
	}()
}

// endStreams ends m's streams with r. The caller holds st.mu for writing.
func (st *netState) endStreams(m *member, r EndReason) {
	for len(m.streams) > 0 {
		st.endLocked(m.streams[len(m.streams)-1], r)
	}
}

// endAll ends every stream with r. The caller holds st.mu for writing.
func (st *netState) endAll(r EndReason) {
	for len(st.streams) > 0 {
		st.endLocked(st.streams[len(st.streams)-1], r)
	}
}

// broadcast publishes one change: peerMsg for the streams of every active
// member but subject, and for subject's own streams selfMsg, or the end
// selfEnd. The caller holds st.mu for writing.
func (st *netState) broadcast(subject *member, peerMsg, selfMsg []byte, selfEnd EndReason) {
	if selfEnd != EndNone {
		st.endStreams(subject, selfEnd)
		selfMsg = nil
	}
	if len(st.streams) == 0 {
		return // nobody to tell; a later stream starts after this change
	}
	var batch [2]logEntry
	n := 0
	if peerMsg != nil {
		batch[n] = logEntry{msg: peerMsg, to: toPeers, subject: subject}
		n++
	}
	if selfMsg != nil && len(subject.streams) > 0 {
		batch[n] = logEntry{msg: selfMsg, to: toSubject, subject: subject}
		n++
	}
	st.log.append(batch[:n]...)
}

// broadcastAll publishes msg for every stream, pending nodes' included.
func (st *netState) broadcastAll(msg []byte) {
	if len(st.streams) > 0 {
		st.log.append(logEntry{msg: msg, to: toAll})
	}
}

func appendHeader(b []byte, typ string, seq uint64) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","seq":`...)
	return strconv.AppendUint(b, seq, 10)
}

func (st *netState) upsertMsg(entry []byte) []byte {
	b := appendHeader(make([]byte, 0, len(entry)+48), meshwire.MsgUpsert, st.seq)
	b = append(b, `,"peer":`...)
	b = append(b, entry...)
	return append(b, '}')
}

func (st *netState) removeMsg(n *Node) []byte {
	b := appendHeader(make([]byte, 0, 128), meshwire.MsgRemove, st.seq)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, n.ID, 10)
	b = append(b, `,"publickey":"`...)
	b = append(b, n.PublicKey...) // base64: nothing to escape
	return append(b, `"}`...)
}

func (st *netState) selfMsg(n *Node) []byte {
	b := appendHeader(nil, meshwire.MsgSelf, st.seq)
	b = append(b, `,"self":`...)
	b = append(b, mustJSON(n.Wire(st.network()))...)
	return append(b, '}')
}

// FullView is a node's complete state at one sequence number: the stream's
// first message. When Buckets is not nil it is a sync (meshwire.MsgSync):
// the node holds a view and gets, for the buckets that differ from it,
// their sums and IDs and their peers modified since shortly before the
// held view's mark; nothing else of its peers.
type FullView struct {
	Seq     uint64
	Mark    int64 // meshwire.ViewDigest's mark of this view
	Buckets []meshwire.SyncBucket
	network []byte
	self    []byte
	peers   PeerList
}

// IsSync reports whether the view is a sync rather than a full view.
func (v *FullView) IsSync() bool { return v.Buckets != nil }

// sync makes v a sync of the stale buckets, whose sums on the server are
// sums, for a node whose view has the mark since.
func (v *FullView) sync(stale []int, sums []uint64, since int64) {
	l := &v.peers
	l.only = new([meshwire.ViewBuckets]bool)
	if since > 0 {
		l.since = since - meshwire.MarkMargin.Microseconds()
	}
	v.Buckets = make([]meshwire.SyncBucket, len(stale))
	for i, b := range stale {
		l.only[b] = true
		slots := l.snap.bucket(b)
		ids := make([]int64, 0, len(slots))
		for _, k := range slots {
			if int(k) != l.skip {
				ids = append(ids, l.snap.ids[k])
			}
		}
		v.Buckets[i] = meshwire.SyncBucket{Bucket: b, Sum: sums[i], IDs: ids}
	}
}

func (v *FullView) appendHead(b []byte) []byte {
	typ := meshwire.MsgFull
	if v.Buckets != nil {
		typ = meshwire.MsgSync
	}
	b = appendHeader(b, typ, v.Seq)
	b = append(b, `,"mark":`...)
	b = strconv.AppendInt(b, v.Mark, 10)
	if v.Buckets == nil {
		return b
	}
	b = append(b, `,"buckets":[`...)
	for i, k := range v.Buckets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"bucket":`...)
		b = strconv.AppendInt(b, int64(k.Bucket), 10)
		b = append(b, `,"sum":`...)
		b = strconv.AppendUint(b, k.Sum, 10)
		b = append(b, `,"ids":[`...)
		for j, id := range k.IDs {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		b = append(b, "]}"...)
	}
	return append(b, ']')
}

// Peers is how many peers the view holds.
func (v *FullView) Peers() int { return v.peers.Len() }

// AppendTo appends the view's message encoding to b.
func (v *FullView) AppendTo(b []byte) []byte {
	b = v.appendHead(b)
	b = append(b, `,"network":`...)
	b = append(b, v.network...)
	b = append(b, `,"self":`...)
	b = append(b, v.self...)
	b = append(b, `,"peers":`...)
	b = v.peers.AppendTo(b)
	return append(b, '}')
}

// WriteTo writes the view's message encoding to w.
func (v *FullView) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	cw := &countWriter{w: bw}
	b := v.appendHead(make([]byte, 0, 64))
	parts := [][]byte{b, []byte(`,"network":`), v.network, []byte(`,"self":`), v.self, []byte(`,"peers":`)}
	for _, p := range parts {
		if _, err := cw.Write(p); err != nil {
			return cw.n, err
		}
	}
	if _, err := v.peers.WriteTo(cw); err != nil {
		return cw.n, err
	}
	if _, err := cw.Write([]byte{'}'}); err != nil {
		return cw.n, err
	}
	return cw.n, bw.Flush()
}

// PeerList is a peer view: encoded meshwire.Peer entries of a network snapshot,
// shared between views and immutable, less the viewer's own entry (skip),
// and, in a sync, only those of some buckets.
type PeerList struct {
	snap *snapshot // nil: no peers
	skip int       // index of the viewer's entry in entries, -1 for none
	// A sync lists only the peers of these buckets modified after since.
	only  *[meshwire.ViewBuckets]bool
	since int64
}

func (l PeerList) has(i int) bool {
	return i != l.skip && (l.only == nil || l.only[l.snap.buckets[i]] && l.snap.modified[i] > l.since)
}

func (l PeerList) entries() [][]byte {
	if l.snap == nil {
		return nil
	}
	return l.snap.entries
}

// Len is the number of peers.
func (l PeerList) Len() int {
	entries := l.entries()
	if l.only != nil {
		n := 0
		for i := range entries {
			if l.has(i) {
				n++
			}
		}
		return n
	}
	if l.skip >= 0 && l.skip < len(entries) {
		return len(entries) - 1
	}
	return len(entries)
}

// Each calls fn with every entry, in order.
func (l PeerList) Each(fn func(entry []byte)) {
	for i, e := range l.entries() {
		if l.has(i) {
			fn(e)
		}
	}
}

// Size is the length of the list's JSON array encoding.
func (l PeerList) Size() int {
	n, count := 2, 0
	l.Each(func(e []byte) { n += len(e); count++ })
	if count > 1 {
		n += count - 1
	}
	return n
}

// AppendTo appends the JSON array of the entries to b.
func (l PeerList) AppendTo(b []byte) []byte {
	b = append(b, '[')
	first := true
	l.Each(func(e []byte) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, e...)
	})
	return append(b, ']')
}

// WriteTo writes the JSON array of the entries to w.
func (l PeerList) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	if _, err := cw.Write([]byte{'['}); err != nil {
		return cw.n, err
	}
	first := true
	for i, e := range l.entries() {
		if !l.has(i) {
			continue
		}
		if !first {
			if _, err := cw.Write([]byte{','}); err != nil {
				return cw.n, err
			}
		}
		first = false
		if _, err := cw.Write(e); err != nil {
			return cw.n, err
		}
	}
	_, err := cw.Write([]byte{']'})
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
