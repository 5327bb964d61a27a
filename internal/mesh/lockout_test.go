package mesh_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestNodeLockout: ten wrong passwords for one node lock it, for that node
// alone, whether or not it exists; while locked even the right password is
// refused with rate_limited and the wait; the lock ends, and a success
// clears the count.
func TestNodeLockout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := &fakeClock{t: time.Now()}
		e := newEnv(t, db, mesh.WithClock(clock.now))
		ctx := context.Background()
		e.network(t, e.adminA, "lock", mesh.NetworkFields{AddressRange: ptr("10.26.0.0/24")})
		a, b := e.join(t, e.svc, "lock", 1), e.join(t, e.svc, "lock", 2)
		auth := func(mac, pw string) error { _, _, err := e.svc.AuthenticateNode(ctx, "lock", mac, pw); return err }
		retryAfter := func(err error) int {
			fe := fault.As(err)
			if fe == nil || fe.Code != fault.RateLimited || fe.Reason != mesh.ReasonNodeLocked {
				return 0
			}
			secs, _ := fe.Details["retry_after"].(int)
			return secs
		}

		for i := 1; i < 10; i++ {
			if err := auth(a.MAC, "wrong"); !fault.Is(err, fault.Unauthorized) {
				t.Fatalf("failure %d: %v, want unauthorized", i, err)
			}
		}
		err := auth(a.MAC, "wrong")
		if secs := retryAfter(err); secs != 30 {
			t.Fatalf("tenth failure: %v, want rate_limited node_locked with retry_after 30", err)
		}

		tests := map[string]struct {
			mac, password string
			locked        bool
		}{
			"right password while locked": {mac: a.MAC, password: "node-password", locked: true},
			"MAC in another notation":     {mac: "02-00-00-00-00-01", password: "node-password", locked: true},
			"another node":                {mac: b.MAC, password: "node-password"},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				err := auth(tc.mac, tc.password)
				if tc.locked && retryAfter(err) == 0 || !tc.locked && err != nil {
					t.Fatalf("%v, want locked %v", err, tc.locked)
				}
			})
		}

		// A MAC of no node locks the same way: a lock tells nothing.
		for range 9 {
			_ = auth(mac(77), "guess")
		}
		if err := auth(mac(77), "guess"); retryAfter(err) == 0 {
			t.Fatalf("unknown node after ten failures: %v, want locked", err)
		}

		clock.add(31 * time.Second)
		if err := auth(a.MAC, "node-password"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		if err := auth(a.MAC, "wrong"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("a failure after a success: %v, want unauthorized (the count was cleared)", err)
		}
	})
}

// TestNodeTokenTTL: node JWTs live as long as WithNodeTokenTTL says.
func TestNodeTokenTTL(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := &fakeClock{t: time.Now().Truncate(time.Second)}
		e := newEnv(t, db, mesh.WithClock(clock.now), mesh.WithNodeTokenTTL(90*time.Minute))
		e.network(t, e.adminA, "ttl", mesh.NetworkFields{AddressRange: ptr("10.27.0.0/24")})
		n := e.join(t, e.svc, "ttl", 1)
		_, exp, err := e.svc.AuthenticateNode(context.Background(), "ttl", n.MAC, "node-password")
		if err != nil || !exp.Equal(clock.now().Add(90*time.Minute)) {
			t.Fatalf("token expires %v (%v), want 90 minutes after %v", exp, err, clock.now())
		}
	})
}

// TestCheckInFlush: Run writes check-ins every WithFlushInterval, so the
// store (and a service started later) has them without a shutdown.
func TestCheckInFlush(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, mesh.WithFlushInterval(10*time.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.svc.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		e.network(t, e.adminA, "flush", mesh.NetworkFields{AddressRange: ptr("10.28.0.0/24")})
		n := e.join(t, e.svc, "flush", 1)
		if _, _, err := e.svc.CheckIn(ctx, master, "flush", n.MAC); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool {
			later := e.start(t, nil)
			got, _, err := later.GetNode(ctx, master, "flush", n.MAC)
			return err == nil && !got.LastCheckIn.IsZero()
		}, "the check-in never reached the store")
	})
}
