package ratelimit

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchLimits never deny, so every iteration takes the counting path.
var benchLimits = [2]Limit{{Max: 1 << 40, Window: time.Minute}, {Max: 1 << 40, Window: time.Hour}}

func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "key_" + strconv.Itoa(i)
	}
	b.Run("one key", func(b *testing.B) {
		l := New(nil)
		b.ReportAllocs()
		for b.Loop() {
			l.Allow("key_0", benchLimits[0], benchLimits[1])
		}
	})
	b.Run("10k keys", func(b *testing.B) {
		l := New(nil)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l.Allow(keys[i%len(keys)], benchLimits[0], benchLimits[1])
			i++
		}
	})
	b.Run("parallel one key", func(b *testing.B) {
		l := New(nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Allow("key_0", benchLimits[0], benchLimits[1])
			}
		})
	})
	b.Run("parallel 10k keys", func(b *testing.B) {
		l := New(nil)
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(7919))
			for pb.Next() {
				l.Allow(keys[i%len(keys)], benchLimits[0], benchLimits[1])
				i++
			}
		})
	})
}
