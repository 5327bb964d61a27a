package event

import (
	"context"
	"testing"
)

// TestBusOrigin: through the Bus interface, every bus names the origin it
// stamps on its events, and two buses (replicas) have different ones.
func TestBusOrigin(t *testing.T) {
	t.Parallel()
	buses := map[string]func(t *testing.T) [2]Bus{
		"local": func(t *testing.T) [2]Bus {
			a, b := NewLocal(), NewLocal()
			t.Cleanup(func() { a.Close(); b.Close() })
			return [2]Bus{a, b}
		},
		"postgres": func(t *testing.T) [2]Bus {
			r := newReplicas(t, 2)
			return [2]Bus{r[0], r[1]}
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
				if err := bus.Publish(context.Background(), Event{Topic: "psk", ID: "1"}); err != nil {
					t.Fatal(err)
				}
				if e := receive(t, sub); e.Origin != bus.Origin() {
					t.Fatalf("event origin %q, bus origin %q", e.Origin, bus.Origin())
				}
				sub.Close()
			}
		})
	}
}
