package agent

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"netkeep/internal/mesh"
)

// View is the agent's picture of its place in the mesh, built from the push
// stream: its own node, the network and the peers it should have. Applying
// is idempotent and tolerant: an upsert of a known peer replaces it, a
// remove of an unknown peer does nothing, and a full view replaces
// everything, so replaying messages or resyncing after a reconnect always
// converges on the server's view. A View is not safe for concurrent use.
type View struct {
	full    bool
	seq     uint64
	self    mesh.WireNode
	network mesh.WireNetwork
	peers   map[int64]mesh.WirePeer
}

// Effect says what applying a message asks of the agent beyond updating
// the interface's peers.
type Effect struct {
	Changed   bool // the desired interface configuration may have changed
	RotateKey bool // a key update was requested (or missed)
}

// NewView returns an empty view.
func NewView() *View { return &View{peers: map[int64]mesh.WirePeer{}} }

// Restore loads a saved snapshot; the next full view replaces it.
func (v *View) Restore(s *Snapshot) {
	v.self, v.network = s.Self, s.Network
	clear(v.peers)
	for _, p := range s.Peers {
		v.peers[p.ID] = p
	}
}

// Snapshot returns the view for saving, peers ordered by id.
func (v *View) Snapshot() *Snapshot {
	return &Snapshot{Self: v.self, Network: v.network, Peers: v.Peers()}
}

// Reset forgets the sequence, as a new connection starts over with a full
// view (sequence numbers are not comparable across connections).
func (v *View) Reset() { v.full, v.seq = false, 0 }

// Apply applies one stream message. It rejects a delta before the full view
// of its connection and a sequence number that does not increase: both
// mean the connection is confused, and the caller should reconnect.
func (v *View) Apply(m *mesh.Message) (Effect, error) {
	if m.Type == mesh.MsgFull {
		if m.Network == nil || m.Self == nil {
			return Effect{}, errors.New("full view without network or self")
		}
		v.full, v.seq, v.self, v.network = true, m.Seq, *m.Self, *m.Network
		clear(v.peers)
		for _, p := range m.Peers {
			if p.ID != v.self.ID {
				v.peers[p.ID] = p
			}
		}
		return Effect{Changed: true, RotateKey: m.Self.NeedKeyUpdate}, nil
	}
	if !v.full {
		return Effect{}, fmt.Errorf("%s message before the full view", m.Type)
	}
	if m.Seq <= v.seq {
		return Effect{}, fmt.Errorf("%s message with seq %d after %d", m.Type, m.Seq, v.seq)
	}
	v.seq = m.Seq
	switch m.Type {
	case mesh.MsgUpsert:
		if m.Peer == nil || m.Peer.ID == v.self.ID {
			return Effect{}, nil
		}
		v.peers[m.Peer.ID] = *m.Peer
		return Effect{Changed: true}, nil
	case mesh.MsgRemove:
		if _, ok := v.peers[m.ID]; !ok {
			return Effect{}, nil
		}
		delete(v.peers, m.ID)
		return Effect{Changed: true}, nil
	case mesh.MsgSelf:
		if m.Self == nil {
			return Effect{}, nil
		}
		v.self = *m.Self
		if v.self.IsPending {
			clear(v.peers) // a node no longer approved gets no peers
		}
		return Effect{Changed: true}, nil
	case mesh.MsgNetwork:
		if m.Network == nil {
			return Effect{}, nil
		}
		v.network = *m.Network
		return Effect{Changed: true}, nil
	case mesh.MsgKeyUpdate:
		return Effect{RotateKey: true}, nil
	}
	return Effect{}, nil // a message type from a newer server: ignore it
}

// Self is the agent's own node as last received.
func (v *View) Self() mesh.WireNode { return v.self }

// Network is the network as last received.
func (v *View) Network() mesh.WireNetwork { return v.network }

// HasSelf reports whether the view knows its node (from a full view or a
// restored snapshot).
func (v *View) HasSelf() bool { return v.self.ID != 0 }

// Peers returns the peers ordered by id.
func (v *View) Peers() []mesh.WirePeer {
	out := make([]mesh.WirePeer, 0, len(v.peers))
	for _, p := range v.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b mesh.WirePeer) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
