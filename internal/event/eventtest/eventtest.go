// Package eventtest holds the waits shared by the tests of event buses and
// of their subscribers. Every wait is bounded by Wait and polls nothing: it
// blocks on the subscription's channel with a deadline.
package eventtest

import (
	"testing"
	"time"

	"netkeep/internal/event"
)

// Wait bounds every wait; events normally arrive in milliseconds, so
// hitting it means the event is not coming.
const Wait = 10 * time.Second

// Receive returns the next event on sub, failing tb if none arrives in time
// or the channel is closed.
func Receive(tb testing.TB, sub *event.Subscription) event.Event {
	tb.Helper()
	timer := time.NewTimer(Wait)
	defer timer.Stop()
	select {
	case e, ok := <-sub.C():
		if !ok {
			tb.Fatal("subscription closed while waiting for an event")
		}
		return e
	case <-timer.C:
		tb.Fatalf("no event within %v", Wait)
	}
	return event.Event{}
}

// ExpectIDs receives len(ids) events and checks their IDs in order.
func ExpectIDs(tb testing.TB, sub *event.Subscription, ids ...string) []event.Event {
	tb.Helper()
	got := make([]event.Event, 0, len(ids))
	for i, want := range ids {
		e := Receive(tb, sub)
		if e.ID != want {
			tb.Fatalf("event %d: got id %q (topic %q, origin %s), want %q", i, e.ID, e.Topic, e.Origin, want)
		}
		got = append(got, e)
	}
	return got
}

// ExpectNothingBuffered fails if sub holds an event right now.
func ExpectNothingBuffered(tb testing.TB, sub *event.Subscription) {
	tb.Helper()
	select {
	case e, ok := <-sub.C():
		if ok {
			tb.Fatalf("unexpected event %+v", e)
		}
	default:
	}
}

// ExpectClosed drains sub and fails unless its channel closes in time.
func ExpectClosed(tb testing.TB, sub *event.Subscription) {
	tb.Helper()
	timer := time.NewTimer(Wait)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-sub.C():
			if !ok {
				return
			}
		case <-timer.C:
			tb.Fatalf("subscription channel not closed within %v", Wait)
		}
	}
}

// Within fails tb unless fn returns in time; it guards calls that must not
// block.
func Within(tb testing.TB, what string, fn func()) {
	tb.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(Wait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		tb.Fatalf("%s blocked for %v", what, Wait)
	}
}
