package device_test

import (
	"context"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/store/storetest"
)

// BenchmarkAuthenticate measures what every request of a paired device
// pays: verifying its token and checking the device and its user in
// memory (the store is read once, on the first request).
func BenchmarkAuthenticate(b *testing.B) {
	db := storetest.Open(b, config.SQLite)
	f := newFixture(b, db)
	tok := f.pair(b, "bench-phone")
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.Authenticate(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
