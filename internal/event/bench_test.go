package event_test

import (
	"fmt"
	"sync"
	"testing"

	"netkeep/internal/event"
)

// BenchmarkLocalPublish measures one Publish fanning out to n subscribers of
// one topic, each drained by its own goroutine, with as many subscribers on
// other topics that Publish must not touch.
func BenchmarkLocalPublish(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			bus := event.NewLocal()
			var wg sync.WaitGroup
			subs := make([]*event.Subscription, n)
			for i := range subs {
				subs[i] = bus.Subscribe("psk")
				_ = bus.Subscribe(fmt.Sprintf("other-%d", i))
				wg.Go(func() {
					for range subs[i].C() {
					}
				})
			}
			e := event.Event{Topic: "psk", Action: "updated", ID: "1"}
			b.ReportAllocs()
			for b.Loop() {
				if err := bus.Publish(b.Context(), e); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var dropped uint64
			for _, s := range subs {
				dropped += s.Dropped()
			}
			b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
			_ = bus.Close()
			wg.Wait()
		})
	}
}
