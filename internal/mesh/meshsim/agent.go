// Package meshsim is an in-process simulated mesh agent: it applies push
// stream messages with the agent's own code (meshwire.View) to a peer table
// instead of a WireGuard interface, and reports what the view ignores as a
// violation of the protocol (a delta before the full view, a sequence
// number that does not increase, an upsert of the node itself, a remove of
// an unknown peer, a message without its payload or of an unknown type).
// Tests and benchmarks use it to stand for thousands of agents without
// interfaces. It imports mesh (for its in-process streams) and meshwire.
package meshsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
)

// Agent is one simulated agent's state. It is safe for concurrent use.
type Agent struct {
	mu         sync.Mutex
	view       *meshwire.View
	keyUpdates int
	messages   int
	notify     chan struct{} // closed and replaced after every message
}

// New returns an agent that has seen nothing yet.
func New() *Agent {
	return &Agent{view: meshwire.NewView(), notify: make(chan struct{})}
}

// Apply decodes and applies one stream message.
func (a *Agent) Apply(raw []byte) error {
	var m meshwire.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("decoding message: %w", err)
	}
	return a.ApplyMessage(&m)
}

// ApplyMessage applies one decoded stream message as an agent does, and
// returns what the agent would tolerate silently as a protocol violation.
func (a *Agent) ApplyMessage(m *meshwire.Message) error {
	a.mu.Lock()
	defer func() {
		a.messages++
		close(a.notify)
		a.notify = make(chan struct{})
		a.mu.Unlock()
	}()
	eff, err := a.view.Apply(m)
	if err != nil {
		return err
	}
	if m.Type == meshwire.MsgKeyUpdate {
		a.keyUpdates++
	}
	return eff.Ignored
}

// Peers returns a copy of the peer table.
func (a *Agent) Peers() map[int64]meshwire.Peer {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[int64]meshwire.Peer, a.view.Len())
	for _, p := range a.view.Peers() {
		out[p.ID] = p
	}
	return out
}

// Peer returns one peer and whether the agent has it.
func (a *Agent) Peer(id int64) (meshwire.Peer, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.view.Peer(id)
}

// Len is the number of peers.
func (a *Agent) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.view.Len()
}

// Self is the agent's own node as last received.
func (a *Agent) Self() meshwire.Node {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.view.Self()
}

// Seq is the sequence number of the last message applied.
func (a *Agent) Seq() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.view.Seq()
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

// Follow applies s's first message (a full view, or a sync when s was
// opened with the agent's digest) and then its messages until the stream or
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

// Digest is the digest of the agent's view, as the agent sends it when it
// reconnects (false: it has no view worth offering).
func (a *Agent) Digest() (*meshwire.ViewDigest, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.view.Digest()
}
