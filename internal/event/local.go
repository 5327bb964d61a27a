package event

import (
	"context"
	"slices"
	"sync"
)

// Local is an in-process Bus. It is safe for concurrent use.
//
// Publishing costs O(subscribers of the event's topic + wildcard subscribers):
// subscriptions are indexed by topic. Delivery never blocks (see Subscription).
type Local struct {
	origin string
	buffer int

	mu       sync.RWMutex
	closed   bool
	byTopic  map[string]map[*Subscription]struct{}
	wildcard map[*Subscription]struct{}
	all      map[*Subscription]struct{} // for TopicBus broadcasts and Close
}

var _ Bus = (*Local)(nil)

// NewLocal returns an in-process bus with a random Origin.
func NewLocal(opts ...Option) *Local {
	o := newOptions(opts)
	return newLocal(newOrigin(), o.buffer)
}

// NewRelay returns an in-process bus and the function that offers it events
// stamped elsewhere, whatever their Origin: another replica's, or the bus's
// own TopicBus events. It is the local half of a bus that carries events
// between processes (internal/store/pgbus); such a bus stamps with Stamp and
// the Local's Origin. deliver never blocks and returns ErrClosed after the
// Local's Close.
func NewRelay(opts ...Option) (local *Local, deliver func(Event) error) {
	l := NewLocal(opts...)
	return l, l.deliver
}

func newLocal(origin string, buffer int) *Local {
	return &Local{
		origin:   origin,
		buffer:   buffer,
		byTopic:  make(map[string]map[*Subscription]struct{}),
		wildcard: make(map[*Subscription]struct{}),
		all:      make(map[*Subscription]struct{}),
	}
}

// Origin is the id this bus stamps on the events it publishes.
func (l *Local) Origin() string { return l.origin }

// Publish stamps Origin and, if zero, Time, then offers e to every matching
// subscription. It never blocks and does not use ctx.
func (l *Local) Publish(_ context.Context, e Event) error {
	e, err := Stamp(e, l.origin)
	if err != nil {
		return err
	}
	return l.deliver(e)
}

// Resync delivers the bus's resync event to every subscription.
func (l *Local) Resync(context.Context) error { return l.deliver(ResyncEvent(l.origin)) }

// deliver offers an already stamped event, whatever its origin.
func (l *Local) deliver(e Event) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	if e.Topic == TopicBus {
		for s := range l.all {
			s.offer(e)
		}
		return nil
	}
	for s := range l.byTopic[e.Topic] {
		s.offer(e)
	}
	for s := range l.wildcard {
		s.offer(e)
	}
	return nil
}

// Subscribe returns a subscription to topics, or to every topic when none is
// given. After Close it returns a subscription whose channel is already closed.
func (l *Local) Subscribe(topics ...string) *Subscription {
	topics = slices.Clone(topics)
	slices.Sort(topics)
	s := &Subscription{
		ch:     make(chan Event, l.buffer),
		topics: slices.Compact(topics),
		bus:    l,
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		s.closed = true
		close(s.ch)
		return s
	}
	l.all[s] = struct{}{}
	if len(s.topics) == 0 {
		l.wildcard[s] = struct{}{}
		return s
	}
	for _, t := range s.topics {
		subs := l.byTopic[t]
		if subs == nil {
			subs = make(map[*Subscription]struct{})
			l.byTopic[t] = subs
		}
		subs[s] = struct{}{}
	}
	return s
}

func (l *Local) unsubscribe(s *Subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.ch)
	delete(l.all, s)
	delete(l.wildcard, s)
	for _, t := range s.topics {
		delete(l.byTopic[t], s)
		if len(l.byTopic[t]) == 0 {
			delete(l.byTopic, t)
		}
	}
}

// Close closes every subscription's channel; later Publish calls return
// ErrClosed. It is idempotent and always returns nil.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	for s := range l.all {
		s.closed = true
		close(s.ch)
	}
	clear(l.all)
	clear(l.wildcard)
	clear(l.byTopic)
	return nil
}
