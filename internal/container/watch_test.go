package container_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/container"
	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// eventsEngine is an engine whose event stream fails the first time it is
// followed (the engine is away) and then reports what the test sends.
type eventsEngine struct {
	*engine
	calls  atomic.Int32
	events chan container.Event
}

func (e *eventsEngine) Events(ctx context.Context, emit func(container.Event)) error {
	if e.calls.Add(1) == 1 {
		return errors.New("the engine cannot be reached")
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-e.events:
			emit(ev)
		}
	}
}

// Watch turns the runtime's events into container.state messages: one per
// change of state (a stop is its "die"; events that change no state are
// not sent), and follows the events again after the stream failed.
func TestWatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		bus := event.NewLocal()
		t.Cleanup(func() { bus.Close() })
		sub := bus.Subscribe(container.Topic)
		t.Cleanup(sub.Close)
		eng := &eventsEngine{engine: newEngine(map[string]string{}), events: make(chan container.Event)}
		svc := container.NewService(store.For[container.Tx](db), bus, []container.Runtime{eng})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { svc.Watch(ctx, 10*time.Millisecond); close(done) }()

		at := time.Unix(1701388800, 0)
		sent := []struct{ action, state string }{
			{"create", "created"}, {"start", "running"}, {"exec_start: sh", ""}, {"pause", "paused"},
			{"unpause", "running"}, {"kill", ""}, {"die", "exited"}, {"stop", ""}, {"destroy", "removed"},
		}
		for _, s := range sent {
			eng.events <- container.Event{ContainerID: "abc", Name: "web", Action: s.action, Time: at}
		}
		for _, s := range sent {
			if s.state == "" {
				continue
			}
			e := eventtest.Receive(t, sub)
			var got container.StateChange
			if err := json.Unmarshal(e.Data, &got); err != nil {
				t.Fatal(err)
			}
			want := container.StateChange{ContainerID: "abc", Name: "web", Runtime: "docker", Action: s.action, State: s.state, Timestamp: at.Unix()}
			if e.Action != container.TypeState || e.ID != "abc" || e.GroupID != 0 || got != want {
				t.Errorf("event %s %s %+v, want %+v", e.Action, e.ID, got, want)
			}
		}
		eventtest.ExpectNothingBuffered(t, sub)
		if n := eng.calls.Load(); n != 2 {
			t.Errorf("the events were followed %d times, want 2 (once more after the failure)", n)
		}
		cancel()
		<-done
	})
}
