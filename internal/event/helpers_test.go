package event

import (
	"testing"
	"time"
)

// waitFor bounds every wait in these tests; events normally arrive in
// milliseconds, so hitting it means the event is not coming.
const waitFor = 10 * time.Second

// receive returns the next event on sub, failing tb if none arrives in time or
// the channel is closed.
func receive(tb testing.TB, sub *Subscription) Event {
	tb.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	select {
	case e, ok := <-sub.C():
		if !ok {
			tb.Fatal("subscription closed while waiting for an event")
		}
		return e
	case <-timer.C:
		tb.Fatalf("no event within %v", waitFor)
	}
	return Event{}
}

// expectIDs receives len(ids) events and checks their IDs in order.
func expectIDs(tb testing.TB, sub *Subscription, ids ...string) []Event {
	tb.Helper()
	got := make([]Event, 0, len(ids))
	for i, want := range ids {
		e := receive(tb, sub)
		if e.ID != want {
			tb.Fatalf("event %d: got id %q (topic %q, origin %s), want %q", i, e.ID, e.Topic, e.Origin, want)
		}
		got = append(got, e)
	}
	return got
}

// expectNothingBuffered fails if sub holds an event right now.
func expectNothingBuffered(tb testing.TB, sub *Subscription) {
	tb.Helper()
	select {
	case e, ok := <-sub.C():
		if ok {
			tb.Fatalf("unexpected event %+v", e)
		}
	default:
	}
}

// expectClosed drains sub and fails unless its channel closes in time.
func expectClosed(tb testing.TB, sub *Subscription) {
	tb.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-sub.C():
			if !ok {
				return
			}
		case <-timer.C:
			tb.Fatalf("subscription channel not closed within %v", waitFor)
		}
	}
}

// within fails tb unless fn returns in time; it guards calls that must not block.
func within(tb testing.TB, what string, fn func()) {
	tb.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		tb.Fatalf("%s blocked for %v", what, waitFor)
	}
}
