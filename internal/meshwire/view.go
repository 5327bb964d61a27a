package meshwire

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// View is a node's picture of its place in the mesh, built from the push
// stream: its own node, the network and the peers it should have. The
// agent, the server's own nodes and the simulated agent all keep one.
//
// Applying is idempotent and tolerant: an upsert of a known peer replaces
// it, a remove of an unknown peer does nothing, a full view replaces
// everything, and a node that becomes pending drops its peers; so replaying
// messages or resyncing after a reconnect always converges on the server's
// view. A View is not safe for concurrent use.
type View struct {
	full    bool
	seq     uint64
	self    Node
	network Network
	peers   map[int64]Peer
	digests map[int64]uint64 // PeerDigest of each peer
	sums    BucketSums
	mark    int64 // of the connection's first message (see ViewDigest)
}

// Effect says what applying a message asks of the view's holder beyond
// updating its interface's peers.
type Effect struct {
	Changed   bool // the desired interface configuration may have changed
	RotateKey bool // a key update was requested (or missed)
	// Ignored, when set, says why a message was ignored that the protocol
	// does not let the server send (an upsert of the node itself, a remove
	// of an unknown peer, a message without its payload, a type this view
	// does not know). An agent ignores it, to stay tolerant of a newer
	// server; the simulated agent reports it as a protocol violation.
	Ignored error
}

// Snapshot is a saved view: the node, its network and its peers.
type Snapshot struct {
	Self    Node    `json:"self"`
	Network Network `json:"network"`
	Peers   []Peer  `json:"peers"`
	Mark    int64   `json:"mark,omitempty"` // see ViewDigest
}

// NewView returns an empty view.
func NewView() *View { return &View{peers: map[int64]Peer{}, digests: map[int64]uint64{}} }

// setPeer adds or replaces p, keeping the digest current.
func (v *View) setPeer(p Peer) {
	v.delPeer(p.ID)
	d := DigestOf(p)
	v.peers[p.ID], v.digests[p.ID] = p, d
	v.sums.Add(BucketOf(p.ID), d)
}

// delPeer removes the peer with id and reports whether there was one.
func (v *View) delPeer(id int64) bool {
	d, ok := v.digests[id]
	if !ok {
		return false
	}
	v.sums.Remove(BucketOf(id), d)
	delete(v.peers, id)
	delete(v.digests, id)
	return true
}

func (v *View) clearPeers() {
	clear(v.peers)
	clear(v.digests)
	v.sums = BucketSums{}
}

// Digest returns the digest of the view's peers, to send as HeaderView
// when reconnecting, or false when the view has none worth offering (no
// node yet, or a pending node, which holds no peers).
func (v *View) Digest() (*ViewDigest, bool) {
	if !v.HasSelf() || v.self.IsPending {
		return nil, false
	}
	return &ViewDigest{Mark: v.mark, Sums: v.sums}, true
}

// Restore loads a saved snapshot; the next full view replaces it.
func (v *View) Restore(s *Snapshot) {
	v.self, v.network, v.mark = s.Self, s.Network, s.Mark
	v.clearPeers()
	for _, p := range s.Peers {
		v.setPeer(p)
	}
}

// Snapshot returns the view for saving, peers ordered by id.
func (v *View) Snapshot() *Snapshot {
	return &Snapshot{Self: v.self, Network: v.network, Peers: v.Peers(), Mark: v.mark}
}

// Reset forgets the sequence, as a new connection starts over with a full
// view (sequence numbers are not comparable across connections).
func (v *View) Reset() { v.full, v.seq = false, 0 }

// Apply applies one stream message. It rejects a delta before the full view
// of its connection and a sequence number that does not increase: both
// mean the connection is confused, and the caller should reconnect.
func (v *View) Apply(m *Message) (Effect, error) {
	if m.Type == MsgFull {
		if m.Network == nil || m.Self == nil {
			return Effect{}, errors.New("full view without network or self")
		}
		v.full, v.seq, v.self, v.network, v.mark = true, m.Seq, *m.Self, *m.Network, m.Mark
		v.clearPeers()
		eff := Effect{Changed: true, RotateKey: m.Self.NeedKeyUpdate}
		for _, p := range m.Peers {
			if p.ID == v.self.ID {
				eff.Ignored = errors.New("full view lists the node among its peers")
				continue
			}
			v.setPeer(p)
		}
		if v.self.IsPending && len(v.peers) > 0 {
			v.clearPeers() // a pending node gets no peers
			eff.Ignored = errors.New("full view of a pending node has peers")
		}
		return eff, nil
	}
	if m.Type == MsgSync {
		return v.applySync(m)
	}
	if !v.full {
		return Effect{}, fmt.Errorf("%s message before the full view", m.Type)
	}
	if m.Seq <= v.seq {
		return Effect{}, fmt.Errorf("%s message with seq %d after %d", m.Type, m.Seq, v.seq)
	}
	v.seq = m.Seq
	switch m.Type {
	case MsgUpsert:
		switch {
		case m.Peer == nil:
			return Effect{Ignored: errors.New("upsert without peer")}, nil
		case m.Peer.ID == v.self.ID:
			return Effect{Ignored: errors.New("upsert of the node itself")}, nil
		case v.self.IsPending:
			return Effect{Ignored: errors.New("upsert to a pending node")}, nil
		}
		v.setPeer(*m.Peer)
		return Effect{Changed: true}, nil
	case MsgRemove:
		if !v.delPeer(m.ID) {
			return Effect{Ignored: fmt.Errorf("remove of unknown peer %d", m.ID)}, nil
		}
		return Effect{Changed: true}, nil
	case MsgSelf:
		if m.Self == nil {
			return Effect{Ignored: errors.New("self without node")}, nil
		}
		v.self = *m.Self
		if v.self.IsPending {
			v.clearPeers() // a node no longer approved gets no peers
		}
		return Effect{Changed: true}, nil
	case MsgNetwork:
		if m.Network == nil {
			return Effect{Ignored: errors.New("network message without network")}, nil
		}
		v.network = *m.Network
		return Effect{Changed: true}, nil
	case MsgKeyUpdate:
		return Effect{RotateKey: true}, nil
	}
	return Effect{Ignored: fmt.Errorf("unknown message type %q", m.Type)}, nil
}

// applySync applies a MsgSync, the first message of a connection opened
// with a view digest: each listed bucket's peers become exactly its listed
// IDs, taking the listed peers' new versions; other buckets are current
// already. A bucket whose sum then differs from the server's means a change
// was not resent (stamped well before the mark): the view forgets its mark,
// so the next reconnection gets those buckets whole, and Apply fails so that
// the caller reconnects.
func (v *View) applySync(m *Message) (Effect, error) {
	if m.Network == nil || m.Self == nil {
		return Effect{}, errors.New("sync without network or self")
	}
	v.full, v.seq, v.self, v.network = true, m.Seq, *m.Self, *m.Network
	eff := Effect{Changed: len(m.Buckets) > 0, RotateKey: m.Self.NeedKeyUpdate}
	var stale [ViewBuckets]bool
	keep := map[int64]bool{}
	for _, b := range m.Buckets {
		if b.Bucket < 0 || b.Bucket >= ViewBuckets {
			return Effect{}, fmt.Errorf("sync names bucket %d", b.Bucket)
		}
		stale[b.Bucket] = true
		for _, id := range b.IDs {
			keep[id] = true
		}
	}
	if len(m.Buckets) > 0 {
		for id := range v.peers {
			if stale[BucketOf(id)] && !keep[id] {
				v.delPeer(id)
			}
		}
	}
	for _, p := range m.Peers {
		switch {
		case p.ID == v.self.ID:
			eff.Ignored = errors.New("sync lists the node among its peers")
		case !stale[BucketOf(p.ID)] || !keep[p.ID]:
			eff.Ignored = fmt.Errorf("sync lists peer %d outside its buckets", p.ID)
		default:
			v.setPeer(p)
		}
	}
	if v.self.IsPending && len(v.peers) > 0 {
		v.clearPeers()
		eff.Changed = true
		eff.Ignored = errors.New("sync of a pending node")
		return eff, nil
	}
	for _, b := range m.Buckets {
		if v.sums[b.Bucket] != b.Sum {
			v.mark = 0
			return eff, fmt.Errorf("bucket %d differs from the server's after the sync", b.Bucket)
		}
	}
	v.mark = m.Mark
	return eff, nil
}

// Self is the node as last received.
func (v *View) Self() Node { return v.self }

// Network is the network as last received.
func (v *View) Network() Network { return v.network }

// HasSelf reports whether the view knows its node (from a full view or a
// restored snapshot).
func (v *View) HasSelf() bool { return v.self.ID != 0 }

// Seq is the sequence number of the last message applied on this
// connection (0 before its full view).
func (v *View) Seq() uint64 { return v.seq }

// Len is the number of peers.
func (v *View) Len() int { return len(v.peers) }

// Peer returns one peer and whether the view has it.
func (v *View) Peer(id int64) (Peer, bool) {
	p, ok := v.peers[id]
	return p, ok
}

// Peers returns the peers ordered by id.
func (v *View) Peers() []Peer {
	out := make([]Peer, 0, len(v.peers))
	for _, p := range v.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Peer) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
