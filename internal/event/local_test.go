package event_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
	"netkeep/internal/fault"
)

func TestLocalTopicFiltering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		topics  []string
		publish []string // topics, published in order with ids "0", "1", ...
		want    []string // ids the subscription receives
	}{
		{"one topic", []string{"psk"}, []string{"psk", "user", "psk", "node"}, []string{"0", "2"}},
		{"two topics", []string{"psk", "node"}, []string{"psk", "user", "node", "apikey"}, []string{"0", "2"}},
		{"wildcard", nil, []string{"psk", "user", "node"}, []string{"0", "1", "2"}},
		{"duplicate topics deliver once", []string{"psk", "psk"}, []string{"psk", "psk"}, []string{"0", "1"}},
		{"no match", []string{"apikey"}, []string{"psk", "user"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := event.NewLocal()
			defer bus.Close()
			sub := bus.Subscribe(tt.topics...)
			for i, topic := range tt.publish {
				if err := bus.Publish(t.Context(), event.Event{Topic: topic, Action: "updated", ID: strconv.Itoa(i)}); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			}
			eventtest.ExpectIDs(t, sub, tt.want...)
			eventtest.ExpectNothingBuffered(t, sub)
		})
	}
}

// event.Bus control events reach every subscription whatever it filters on, so a
// topic subscriber cannot miss a resync.
func TestLocalBusEventsReachEverySubscription(t *testing.T) {
	t.Parallel()
	bus, deliver := event.NewRelay()
	defer bus.Close()
	subs := []*event.Subscription{bus.Subscribe("psk"), bus.Subscribe("node", "user"), bus.Subscribe()}
	if err := deliver(event.Event{Topic: event.TopicBus, Action: event.ActionResync, ID: "r"}); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	for _, sub := range subs {
		if e := eventtest.Receive(t, sub); e.Topic != event.TopicBus || e.Action != event.ActionResync {
			t.Errorf("got %+v, want a resync", e)
		}
		eventtest.ExpectNothingBuffered(t, sub)
	}
}

func TestLocalPublishStampsAndValidates(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name     string
		event    event.Event
		wantCode fault.Code // "" for success
	}{
		{"200/time set when zero", event.Event{Topic: "psk", ID: "1"}, ""},
		{"200/time kept", event.Event{Topic: "psk", ID: "1", Time: fixed}, ""},
		{"200/origin overwritten", event.Event{Topic: "psk", ID: "1", Origin: "forged"}, ""},
		{"200/data kept", event.Event{Topic: "psk", ID: "1", Data: json.RawMessage(`{"vlan":10}`)}, ""},
		{"400/no topic", event.Event{ID: "1"}, fault.Invalid},
		{"400/reserved topic", event.Event{Topic: event.TopicBus, Action: event.ActionResync}, fault.Invalid},
		{"400/data not json", event.Event{Topic: "psk", Data: json.RawMessage(`{vlan`)}, fault.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := event.NewLocal()
			defer bus.Close()
			sub := bus.Subscribe()
			before := time.Now()
			err := bus.Publish(t.Context(), tt.event)
			if tt.wantCode != "" {
				if !fault.Is(err, tt.wantCode) {
					t.Fatalf("Publish error = %v, want code %s", err, tt.wantCode)
				}
				eventtest.ExpectNothingBuffered(t, sub)
				return
			}
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			got := eventtest.Receive(t, sub)
			if got.Origin != bus.Origin() || got.Origin == "" {
				t.Errorf("Origin = %q, want the bus's %q", got.Origin, bus.Origin())
			}
			switch {
			case !tt.event.Time.IsZero() && !got.Time.Equal(tt.event.Time):
				t.Errorf("Time = %v, want the publisher's %v", got.Time, tt.event.Time)
			case tt.event.Time.IsZero() && got.Time.Before(before.Add(-time.Second)):
				t.Errorf("Time = %v, want about %v", got.Time, before)
			}
			if string(got.Data) != string(tt.event.Data) {
				t.Errorf("Data = %s, want %s", got.Data, tt.event.Data)
			}
		})
	}
}

// A publisher reusing its Data buffer must not change events already published.
func TestLocalPublishCopiesData(t *testing.T) {
	t.Parallel()
	bus := event.NewLocal()
	defer bus.Close()
	sub := bus.Subscribe("psk")
	data := []byte(`{"n":1}`)
	if err := bus.Publish(t.Context(), event.Event{Topic: "psk", Data: data}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	copy(data, `{"n":2}`)
	if got := eventtest.Receive(t, sub); string(got.Data) != `{"n":1}` {
		t.Errorf("Data = %s, want the value at publish time", got.Data)
	}
}

func TestLocalOrderingPerPublisher(t *testing.T) {
	t.Parallel()
	const publishers, perPublisher = 8, 500
	bus := event.NewLocal(event.WithBuffer(publishers * perPublisher))
	defer bus.Close()
	subs := []*event.Subscription{bus.Subscribe("psk"), bus.Subscribe()}

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for seq := range perPublisher {
				if err := bus.Publish(context.Background(), event.Event{Topic: "psk", ID: fmt.Sprintf("%d/%d", p, seq)}); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	for _, sub := range subs {
		next := make([]int, publishers)
		for range publishers * perPublisher {
			var p, seq int
			e := eventtest.Receive(t, sub)
			if _, err := fmt.Sscanf(e.ID, "%d/%d", &p, &seq); err != nil {
				t.Fatalf("bad id %q: %v", e.ID, err)
			}
			if seq != next[p] {
				t.Fatalf("publisher %d: got seq %d, want %d", p, seq, next[p])
			}
			next[p]++
		}
		if d := sub.Dropped(); d != 0 {
			t.Errorf("Dropped = %d, want 0", d)
		}
	}
}

func TestLocalSlowSubscriber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		buffer  int // 0 for the default
		publish int
	}{
		{"buffer 1", 1, 10},
		{"buffer 4", 4, 100},
		{"default buffer", 0, event.DefaultBuffer + 44},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []event.Option
			if tt.buffer > 0 {
				opts = append(opts, event.WithBuffer(tt.buffer))
			}
			bus := event.NewLocal(opts...)
			defer bus.Close()
			buffer := cmp.Or(tt.buffer, event.DefaultBuffer)
			slow := bus.Subscribe("psk")  // never read until the end
			other := bus.Subscribe("psk") // read as events arrive

			var received []string
			eventtest.Within(t, "publishing to a slow subscriber", func() {
				for i := range tt.publish {
					if err := bus.Publish(context.Background(), event.Event{Topic: "psk", ID: strconv.Itoa(i)}); err != nil {
						t.Errorf("Publish: %v", err)
					}
					e := <-other.C()
					received = append(received, e.ID)
				}
			})
			if len(received) != tt.publish || other.Dropped() != 0 {
				t.Errorf("reading subscriber got %d events, dropped %d; want %d, 0", len(received), other.Dropped(), tt.publish)
			}
			if got, want := slow.Dropped(), uint64(tt.publish-buffer); got != want {
				t.Errorf("slow Dropped = %d, want %d", got, want)
			}
			// The oldest events are kept; the newest were dropped.
			want := make([]string, buffer)
			for i := range want {
				want[i] = strconv.Itoa(i)
			}
			eventtest.ExpectIDs(t, slow, want...)
			eventtest.ExpectNothingBuffered(t, slow)
		})
	}
}

func TestLocalClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		close func(tb testing.TB, bus *event.Local, sub *event.Subscription)
		// wantPublishErr is whether Publish fails afterwards.
		wantPublishErr bool
	}{
		{"subscription close", func(_ testing.TB, _ *event.Local, sub *event.Subscription) { sub.Close() }, false},
		{"subscription close twice", func(_ testing.TB, _ *event.Local, sub *event.Subscription) { sub.Close(); sub.Close() }, false},
		{"bus close", func(tb testing.TB, bus *event.Local, _ *event.Subscription) { closeBus(tb, bus) }, true},
		{"bus close twice", func(tb testing.TB, bus *event.Local, _ *event.Subscription) { closeBus(tb, bus); closeBus(tb, bus) }, true},
		{"subscription then bus", func(tb testing.TB, bus *event.Local, sub *event.Subscription) { sub.Close(); closeBus(tb, bus) }, true},
		{"bus then subscription", func(tb testing.TB, bus *event.Local, sub *event.Subscription) { closeBus(tb, bus); sub.Close() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus := event.NewLocal()
			defer bus.Close()
			sub := bus.Subscribe("psk")
			if err := bus.Publish(t.Context(), event.Event{Topic: "psk", ID: "before"}); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			tt.close(t, bus, sub)

			// Buffered events are still received, then the channel is closed.
			eventtest.ExpectIDs(t, sub, "before")
			eventtest.ExpectClosed(t, sub)

			err := bus.Publish(t.Context(), event.Event{Topic: "psk", ID: "after"})
			if tt.wantPublishErr != (err != nil) {
				t.Fatalf("Publish after close: err = %v, want error %v", err, tt.wantPublishErr)
			}
			if err != nil && !errors.Is(err, event.ErrClosed) {
				t.Errorf("Publish after close: err = %v, want event.ErrClosed", err)
			}
			if tt.wantPublishErr {
				eventtest.ExpectClosed(t, bus.Subscribe("psk")) // subscribing to a closed bus
			}
		})
	}
}

func closeBus(tb testing.TB, bus *event.Local) {
	tb.Helper()
	if err := bus.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

// Publish, Subscribe, event.Subscription.Close and Close race each other; run with
// -race. Every goroutine must finish and Publish may only fail with event.ErrClosed.
func TestLocalConcurrentUse(t *testing.T) {
	t.Parallel()
	bus := event.NewLocal(event.WithBuffer(8))
	topics := []string{"psk", "user", "node"}
	var wg sync.WaitGroup

	for p := range 4 {
		wg.Go(func() {
			closed := false
			for i := range 2000 {
				err := bus.Publish(context.Background(), event.Event{Topic: topics[(p+i)%len(topics)], ID: strconv.Itoa(i)})
				switch {
				case err == nil && closed:
					t.Error("Publish succeeded after it had returned event.ErrClosed")
				case err != nil && !errors.Is(err, event.ErrClosed):
					t.Errorf("Publish: %v", err)
				}
				closed = closed || err != nil
			}
		})
	}
	for c := range 4 {
		wg.Go(func() {
			for i := range 500 {
				sub := bus.Subscribe(topics[:1+(c+i)%len(topics)]...)
				select {
				case <-sub.C():
				default:
				}
				sub.Close()
				_ = sub.Dropped()
			}
		})
	}
	for range 2 {
		sub := bus.Subscribe()
		wg.Go(func() {
			for range sub.C() {
			}
		})
	}
	wg.Go(func() {
		for range 1000 {
			_ = bus.Publish(context.Background(), event.Event{Topic: "apikey"})
		}
		_ = bus.Close()
	})
	eventtest.Within(t, "concurrent use", wg.Wait)
}

// Resync reaches every subscription whatever its topics.
func TestLocalResync(t *testing.T) {
	bus := event.NewLocal()
	defer bus.Close()
	psk, all := bus.Subscribe("psk"), bus.Subscribe()
	if err := bus.Resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*event.Subscription{psk, all} {
		if got := eventtest.Receive(t, sub); got.Topic != event.TopicBus || got.Action != event.ActionResync || got.Origin != bus.Origin() {
			t.Fatalf("received %+v", got)
		}
	}
}
