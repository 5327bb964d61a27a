// Package meshsim is an in-process simulated mesh agent: it applies push
// stream messages to a peer table exactly as a real agent applies them to a
// WireGuard interface, and checks the protocol's rules on the way (a full
// view first, strictly increasing sequence numbers, removals of known peers
// only). Tests and benchmarks use it to stand for thousands of agents
// without interfaces. It imports mesh only.
package meshsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"netkeep/internal/mesh"
)

// Agent is one simulated agent's state. It is safe for concurrent use.
type Agent struct {
	mu         sync.Mutex
	full       bool
	seq        uint64
	self       mesh.WireNode
	network    mesh.WireNetwork
	peers      map[int64]mesh.WirePeer
	keyUpdates int
	messages   int
	notify     chan struct{} // closed and replaced after every message
}

// New returns an agent that has seen nothing yet.
func New() *Agent {
	return &Agent{peers: map[int64]mesh.WirePeer{}, notify: make(chan struct{})}
}

// Apply decodes and applies one stream message.
func (a *Agent) Apply(raw []byte) error {
	var m mesh.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("decoding message: %w", err)
	}
	return a.ApplyMessage(&m)
}

// ApplyMessage applies one decoded stream message.
func (a *Agent) ApplyMessage(m *mesh.Message) error {
	a.mu.Lock()
	defer func() {
		a.messages++
		close(a.notify)
		a.notify = make(chan struct{})
		a.mu.Unlock()
	}()
	if m.Type == mesh.MsgFull {
		if m.Network == nil || m.Self == nil {
			return errors.New("full view without network or self")
		}
		a.full, a.seq, a.self, a.network = true, m.Seq, *m.Self, *m.Network
		clear(a.peers)
		for _, p := range m.Peers {
			a.peers[p.ID] = p
		}
		return nil
	}
	if !a.full {
		return fmt.Errorf("%s message before the full view", m.Type)
	}
	if m.Seq <= a.seq {
		return fmt.Errorf("%s message with seq %d after %d", m.Type, m.Seq, a.seq)
	}
	a.seq = m.Seq
	switch m.Type {
	case mesh.MsgUpsert:
		if m.Peer == nil {
			return errors.New("upsert without peer")
		}
		if m.Peer.ID == a.self.ID {
			return errors.New("upsert of the agent's own node")
		}
		a.peers[m.Peer.ID] = *m.Peer
	case mesh.MsgRemove:
		if _, ok := a.peers[m.ID]; !ok {
			return fmt.Errorf("remove of unknown peer %d", m.ID)
		}
		delete(a.peers, m.ID)
	case mesh.MsgSelf:
		if m.Self == nil {
			return errors.New("self without node")
		}
		a.self = *m.Self
	case mesh.MsgNetwork:
		if m.Network == nil {
			return errors.New("network message without network")
		}
		a.network = *m.Network
	case mesh.MsgKeyUpdate:
		a.keyUpdates++
	default:
		return fmt.Errorf("unknown message type %q", m.Type)
	}
	return nil
}

// Peers returns a copy of the peer table.
func (a *Agent) Peers() map[int64]mesh.WirePeer {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[int64]mesh.WirePeer, len(a.peers))
	for id, p := range a.peers {
		out[id] = p
	}
	return out
}

// Peer returns one peer and whether the agent has it.
func (a *Agent) Peer(id int64) (mesh.WirePeer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.peers[id]
	return p, ok
}

// Len is the number of peers.
func (a *Agent) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.peers)
}

// Self is the agent's own node as last received.
func (a *Agent) Self() mesh.WireNode {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.self
}

// Seq is the sequence number of the last message applied.
func (a *Agent) Seq() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seq
}

// KeyUpdates counts keyupdate messages received.
func (a *Agent) KeyUpdates() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keyUpdates
}

// Wait blocks until cond holds over the agent (checked after every message)
// or ctx ends.
func (a *Agent) Wait(ctx context.Context, cond func(a *Agent) bool) error {
	for {
		a.mu.Lock()
		ch := a.notify
		a.mu.Unlock()
		if cond(a) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Follow applies s's full view and then its messages until the stream or
// ctx ends. It returns nil when the stream ended (s.Reason says why) and
// the first protocol violation otherwise.
func (a *Agent) Follow(ctx context.Context, s *mesh.Stream) error {
	if err := a.Apply(s.Full().AppendTo(nil)); err != nil {
		return err
	}
	for {
		msg, err := s.Next(ctx)
		if errors.Is(err, mesh.ErrStreamEnded) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := a.Apply(msg); err != nil {
			return err
		}
	}
}
