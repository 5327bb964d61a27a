package apikey_test

import (
	"context"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/event"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestCacheTTLBoundsLostEvents gives a replica its own bus, so it never hears
// of a revoke: the cache TTL is then what ends the key there.
func TestCacheTTLBoundsLostEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		deaf := event.NewLocal()
		t.Cleanup(func() { deaf.Close() })
		replica := apikey.NewService(store.For[apikey.Tx](db), deaf, f.users,
			apikey.WithClock(f.clock.Now), apikey.WithCacheTTL(time.Minute))
		t.Cleanup(replica.Close)

		k, secret := f.create(t, f.adminA, apikey.NewKey{})
		mustAuth(t, replica, secret)
		if _, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), k.ID); err != nil {
			t.Fatal(err)
		}
		mustAuth(t, replica, secret) // stale, as expected without the event
		f.clock.Advance(time.Minute)
		_, _, err := replica.Authenticate(ctx, secret)
		if !rejectedWith("API key revoked")(nil, err) {
			t.Fatalf("after the TTL: %v", err)
		}
	})
}

// TestReloadAfterUserEventIsShortLived covers a UserLookup that answers from
// a cache which has not applied the "user" event yet: what the key reloads
// then is trusted only for a few seconds, not for the whole cache TTL.
func TestReloadAfterUserEventIsShortLived(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		_, secret := f.create(t, f.adminA, apikey.NewKey{})
		svc, st := f.service(t)
		mustAuth(t, svc, secret)

		f.userEvent(t, f.adminA) // the lookup still answers "active"
		eventually(t, "the event drops the cached key", func() bool {
			mustAuth(t, svc, secret)
			return st.reads.Load() == 2
		})
		f.users.update(f.adminA.UserID, func(st *userState) { st.active = false }) // the lookup catches up
		mustAuth(t, svc, secret)
		f.clock.Advance(5 * time.Second)
		_, _, err := svc.Authenticate(ctx, secret)
		if !rejectedWith("no longer active")(nil, err) {
			t.Fatalf("5 s after the event: %v", err)
		}
	})
}

func TestAuthenticateAllocations(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	f := newFixture(t, db)
	_, secret := f.create(t, f.adminA, apikey.NewKey{RatePerMinute: apikey.MaxRatePerMinute, RatePerHour: apikey.MaxRatePerHour})
	mustAuth(t, f.svc, secret)
	ctx := context.Background()
	allocs := testing.AllocsPerRun(200, func() {
		f.clock.Advance(time.Second)
		if _, _, err := f.svc.Authenticate(ctx, secret); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // the returned principal
		t.Fatalf("%v allocations per warm Authenticate, want at most 1", allocs)
	}
}

func TestWithoutBus(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		alone := apikey.NewService(store.For[apikey.Tx](db), nil, f.users, apikey.WithClock(f.clock.Now))
		defer alone.Close()
		k, secret, err := alone.Create(ctx, f.adminA, source(f.adminA), apikey.NewKey{Name: "solo", Scopes: []string{"psks:read"}})
		if err != nil {
			t.Fatal(err)
		}
		mustAuth(t, alone, secret)
		if _, err := alone.Revoke(ctx, f.adminA, source(f.adminA), k.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := alone.Authenticate(ctx, secret); !rejectedWith("API key revoked")(nil, err) {
			t.Fatalf("own revoke without a bus: %v", err)
		}
	})
}
