package apikey_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/store/storetest"
)

// BenchmarkAuthenticate measures the warm hot path: SHA-256, cache lookup,
// expiry check, last-use mark and rate limiter. Its clock moves one second
// per reading, so the maximum rates never deny and every iteration takes the
// allowed path; the cache TTL is stretched to match, so nothing reloads.
func BenchmarkAuthenticate(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(map[int]string{1: "one key", 64: "64 keys"}[n], func(b *testing.B) {
			db := storetest.Open(b, "sqlite")
			f := newFixture(b, db)
			var tick atomic.Int64
			base := f.clock.Now()
			svc, st := f.service(b, apikey.WithCacheTTL(100*365*24*time.Hour), apikey.WithClock(func() time.Time {
				return base.Add(time.Duration(tick.Add(1)) * time.Second)
			}))
			secrets := make([]string, n)
			for i := range secrets {
				_, secrets[i] = f.create(b, f.adminA, apikey.NewKey{RatePerMinute: apikey.MaxRatePerMinute, RatePerHour: apikey.MaxRatePerHour})
				mustAuth(b, svc, secrets[i])
			}
			ctx := context.Background()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(1))
				for pb.Next() {
					if _, _, err := svc.Authenticate(ctx, secrets[i%n]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.StopTimer()
			if r := st.reads.Load(); r != int64(n) {
				b.Fatalf("%d store reads for %d keys: the cache did not hold", r, n)
			}
		})
	}
}
