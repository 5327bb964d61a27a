package apikey_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// storedLastUse reads last_used_at straight from the table.
func storedLastUse(tb testing.TB, db *store.DB, id string) *time.Time {
	tb.Helper()
	var t sql.NullTime
	if err := db.SQL().QueryRow(`SELECT last_used_at FROM api_keys WHERE id = $1`, id).Scan(&t); err != nil {
		tb.Fatal(err)
	}
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func TestLastUsed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		k, secret := f.create(t, f.adminA, apikey.NewKey{})
		writes := f.st.writes.Load()
		used := f.clock.Now()
		for range 10 {
			mustAuth(t, f.svc, secret)
		}
		if w := f.st.writes.Load() - writes; w != 0 {
			t.Fatalf("authentication wrote to the store %d times", w)
		}
		if got := storedLastUse(t, db, k.ID); got != nil {
			t.Fatalf("stored before any flush: %v", got)
		}
		if got, _ := f.svc.Get(ctx, f.adminA, k.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Fatalf("Get before the flush shows %v, want the in-memory %v", got.LastUsedAt, used)
		}

		if err := f.svc.FlushLastUsed(ctx); err != nil {
			t.Fatal(err)
		}
		if got := storedLastUse(t, db, k.ID); got == nil || !got.Equal(used) {
			t.Fatalf("stored %v after the flush, want %v", got, used)
		}
		writes = f.st.writes.Load()
		if err := f.svc.FlushLastUsed(ctx); err != nil || f.st.writes.Load() != writes {
			t.Fatalf("a flush with nothing new wrote (%v)", err)
		}

		// A use followed by the entry leaving the cache (a revoke) is still flushed.
		f.clock.Advance(10 * time.Second)
		later := f.clock.Now()
		mustAuth(t, f.svc, secret)
		if _, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), k.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.FlushLastUsed(ctx); err != nil {
			t.Fatal(err)
		}
		if got := storedLastUse(t, db, k.ID); got == nil || !got.Equal(later) {
			t.Fatalf("stored %v, want %v", got, later)
		}
		replica, _ := f.service(t)
		if got, _ := replica.Get(ctx, f.adminA, k.ID); got.LastUsedAt == nil || !got.LastUsedAt.Equal(later) {
			t.Fatalf("another replica sees %v, want %v", got.LastUsedAt, later)
		}
	})
}

func TestRunFlushesPeriodically(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, apikey.WithFlushInterval(5*time.Millisecond))
		k, secret := f.create(t, f.adminA, apikey.NewKey{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.svc.Run(ctx) }()
		mustAuth(t, f.svc, secret)
		eventually(t, "Run flushes the use", func() bool { return storedLastUse(t, db, k.ID) != nil })

		f.clock.Advance(time.Minute)
		last := f.clock.Now()
		mustAuth(t, f.svc, secret)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Fatal("Run did not return after its context ended")
		}
		if got := storedLastUse(t, db, k.ID); got == nil || !got.Equal(last) {
			t.Fatalf("final flush stored %v, want %v", got, last)
		}
	})
}
