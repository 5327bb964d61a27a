package pgbus

import (
	"context"
	"testing"

	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
)

// TestBusOrigin: through the event.Bus interface, both buses names the origin it
// stamps on its events, and two buses (replicas) have different ones.
func TestBusOrigin(t *testing.T) {
	t.Parallel()
	buses := map[string]func(t *testing.T) [2]event.Bus{
		"local": func(t *testing.T) [2]event.Bus {
			a, b := event.NewLocal(), event.NewLocal()
			t.Cleanup(func() { a.Close(); b.Close() })
			return [2]event.Bus{a, b}
		},
		"pgbus": func(t *testing.T) [2]event.Bus {
			r := newReplicas(t, 2)
			return [2]event.Bus{r[0], r[1]}
		},
	}
	for name, open := range buses {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pair := open(t)
			if pair[0].Origin() == "" || pair[0].Origin() == pair[1].Origin() {
				t.Fatalf("origins %q and %q: want two different ids", pair[0].Origin(), pair[1].Origin())
			}
			for _, bus := range pair {
				sub := bus.Subscribe("psk")
				if err := bus.Publish(context.Background(), event.Event{Topic: "psk", ID: "1"}); err != nil {
					t.Fatal(err)
				}
				if e := eventtest.Receive(t, sub); e.Origin != bus.Origin() {
					t.Fatalf("event origin %q, bus origin %q", e.Origin, bus.Origin())
				}
				sub.Close()
			}
		})
	}
}
