package event

import "sync/atomic"

// Subscription is one subscriber's view of a bus: a bounded channel of events
// on its topics, in the order each publisher published them.
//
// When the buffer is full the newest event is dropped for this subscription
// only and counted; the publisher never waits. A subscriber that must not miss
// changes resynchronises from the store whenever Dropped has grown since it
// last looked.
type Subscription struct {
	ch      chan Event
	topics  []string // deduplicated; empty means every topic
	bus     *Local
	dropped atomic.Uint64
	closed  bool // guarded by bus.mu
}

// C returns the event channel. It is closed after Close or the bus's Close,
// once the buffered events have been received.
func (s *Subscription) C() <-chan Event { return s.ch }

// Close stops delivery and closes C. It is idempotent and safe to call
// concurrently with Publish and with the bus's Close.
func (s *Subscription) Close() { s.bus.unsubscribe(s) }

// Dropped reports how many events were dropped because the buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// offer hands e over without blocking. The caller holds bus.mu for reading, so
// the channel cannot be closed underneath the send.
func (s *Subscription) offer(e Event) {
	select {
	case s.ch <- e:
	default:
		s.dropped.Add(1)
	}
}
