package psk_test

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/psk"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var src = audit.Source{Actor: "test", IP: "127.0.0.1"}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) {
	c.ns.Add(int64(d))
}
func (c *clock) now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// env is a service over a real database with its own bus subscription.
type env struct {
	db    *store.DB
	svc   *psk.Service
	keys  *secret.Keys
	clock *clock
	sub   *event.Subscription
	admin *authz.Principal // GROUP_ADMIN of group
	group int64
}

func newEnv(tb testing.TB, db *store.DB) *env {
	tb.Helper()
	keys, err := secret.Derive(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	bus := event.NewLocal(event.WithBuffer(10000))
	tb.Cleanup(func() { bus.Close() })
	e := &env{db: db, keys: keys, clock: newClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), sub: bus.Subscribe()}
	e.svc = psk.NewService(store.For[psk.Tx](db), keys, bus, psk.WithClock(e.clock.now))
	e.group = mustGroup(tb, db, "acme")
	e.admin = &authz.Principal{Kind: authz.KindUser, UserID: 1, Role: authz.GroupAdmin, GroupID: e.group}
	return e
}

func mustGroup(tb testing.TB, db *store.DB, name string) int64 {
	tb.Helper()
	g := &identity.Group{Name: name}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateGroup(context.Background(), g) }); err != nil {
		tb.Fatal(err)
	}
	return g.ID
}

// events drains the events published so far.
func (e *env) events() []event.Event {
	var out []event.Event
	for {
		select {
		case ev := <-e.sub.C():
			out = append(out, ev)
		default:
			return out
		}
	}
}

func (e *env) audit(tb testing.TB, action string) []audit.Entry {
	tb.Helper()
	entries, err := e.db.Read().ListAudit(context.Background(), audit.Query{Action: action, Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	return entries
}

func (e *env) create(tb testing.TB, in psk.NewPSK) *psk.PSK {
	tb.Helper()
	p, err := e.svc.Create(context.Background(), e.admin, src, 0, in)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestSweepExpiredOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		hours := func(n int) *int { return &n }
		soon := e.create(t, psk.NewPSK{PSKID: "soon", ExpiresInHours: hours(1)})
		later := e.create(t, psk.NewPSK{PSKID: "later", ExpiresInHours: hours(48)})
		e.create(t, psk.NewPSK{PSKID: "never"})
		e.events()

		if n, err := e.svc.SweepExpired(ctx); err != nil || n != 0 {
			t.Fatalf("sweep before expiry = %d, %v", n, err)
		}
		e.clock.add(time.Hour) // exactly the expiry instant of "soon"
		if n, err := e.svc.SweepExpired(ctx); err != nil || n != 1 {
			t.Fatalf("sweep at expiry = %d, %v", n, err)
		}
		if n, err := e.svc.SweepExpired(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v", n, err)
		}
		evs := e.events()
		if len(evs) != 1 || evs[0].Topic != "psk" || evs[0].Action != "expired" || evs[0].ID != strconv.FormatInt(soon.ID, 10) || evs[0].GroupID != e.group {
			t.Fatalf("events = %+v", evs)
		}
		if got := e.audit(t, "psk.expired"); len(got) != 1 || got[0].Actor != "system" || got[0].Target != "psk:"+strconv.FormatInt(soon.ID, 10) {
			t.Fatalf("audit = %+v", got)
		}

		// A new expiry re-arms the sweep.
		if _, err := e.svc.Update(ctx, e.admin, src, soon.ID, psk.Patch{ExpiresInHours: hours(2)}); err != nil {
			t.Fatal(err)
		}
		e.clock.add(3 * time.Hour)
		if n, err := e.svc.SweepExpired(ctx); err != nil || n != 1 {
			t.Fatalf("sweep after re-arm = %d, %v", n, err)
		}

		// Two replicas sweeping at once report each PSK once.
		other := psk.NewService(store.For[psk.Tx](db), e.keys, event.NewLocal(), psk.WithClock(e.clock.now))
		for i := range 30 {
			e.create(t, psk.NewPSK{PSKID: "bulk-" + strconv.Itoa(i), ExpiresInHours: hours(1)})
		}
		e.clock.add(49 * time.Hour) // "later" and the 30 expire
		var wg sync.WaitGroup
		var total atomic.Int64
		for _, s := range []*psk.Service{e.svc, other, e.svc, other} {
			wg.Go(func() {
				n, err := s.SweepExpired(ctx)
				if err != nil {
					t.Error(err)
				}
				total.Add(int64(n))
			})
		}
		wg.Wait()
		if total.Load() != 31 {
			t.Fatalf("concurrent sweeps reported %d, want 31", total.Load())
		}
		if got := e.audit(t, "psk.expired"); len(got) != 33 {
			t.Fatalf("%d psk.expired entries, want 33", len(got))
		}
		_ = later
	})
}

func TestBindAndTouchEndpoints(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a := e.create(t, psk.NewPSK{PSKID: "a"})
		b := e.create(t, psk.NewPSK{PSKID: "b"})
		e.events()

		ep, err := e.svc.BindEndpoint(ctx, e.group, "AA-BB-CC-00-11-22", a.ID)
		if err != nil || ep.MAC != "aa:bb:cc:00:11:22" || ep.PSKID != a.ID || !ep.Enabled || ep.GroupID != e.group {
			t.Fatalf("bind = %+v, %v", ep, err)
		}
		again, err := e.svc.BindEndpoint(ctx, e.group, "aabb.cc00.1122", a.ID)
		if err != nil || again.ID != ep.ID {
			t.Fatalf("bind again = %+v, %v", again, err)
		}
		moved, err := e.svc.BindEndpoint(ctx, e.group, "aa:bb:cc:00:11:22", b.ID)
		if err != nil || moved.ID != ep.ID || moved.PSKID != b.ID {
			t.Fatalf("rebind = %+v, %v", moved, err)
		}
		evs := e.events()
		if len(evs) != 2 || evs[0].Action != "created" || evs[1].Action != "updated" || evs[0].Topic != "endpoint" {
			t.Fatalf("events = %+v", evs)
		}
		for _, action := range []string{"endpoint.create", "endpoint.update"} {
			if got := e.audit(t, action); len(got) != 1 || got[0].Actor != "radius" {
				t.Fatalf("%s audit = %+v", action, got)
			}
		}
		// A PSK of another group cannot be bound.
		other := mustGroup(t, db, "globex")
		if _, err := e.svc.BindEndpoint(ctx, other, "aa:bb:cc:00:11:23", a.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("cross-group bind: %v", err)
		}

		t1 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := e.svc.TouchEndpoints(ctx, map[int64]time.Time{ep.ID: t1, 999999: t1}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.TouchEndpoints(ctx, map[int64]time.Time{ep.ID: t1.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.LoadEndpoint(ctx, ep.ID)
		if err != nil || got.LastSeen == nil || !got.LastSeen.Equal(t1) {
			t.Fatalf("last seen = %+v, %v", got, err)
		}
		if evs := e.events(); len(evs) != 0 {
			t.Fatalf("touch published %+v", evs)
		}
	})
}

func TestSnapshotAndEncryptionAtRest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		off := false
		vlan := 30
		p1 := e.create(t, psk.NewPSK{PSKID: "one", Passphrase: "Correct-Horse-Battery-1", VLANID: &vlan})
		p2 := e.create(t, psk.NewPSK{PSKID: "two", Passphrase: "Correct-Horse-Battery-2", Enabled: &off})
		if _, err := e.svc.BindEndpoint(ctx, e.group, "02:00:00:00:00:01", p1.ID); err != nil {
			t.Fatal(err)
		}
		snap, err := e.svc.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.PSKs) != 2 || snap.PSKs[0].Passphrase != p1.Passphrase || snap.PSKs[1].Passphrase != p2.Passphrase ||
			*snap.PSKs[0].VLANID != 30 || snap.PSKs[1].Enabled || len(snap.Endpoints) != 1 {
			t.Fatalf("snapshot = %+v", snap)
		}
		if got, err := e.svc.LoadPSK(ctx, p2.ID); err != nil || got.Passphrase != p2.Passphrase {
			t.Fatalf("LoadPSK = %+v, %v", got, err)
		}

		// The stored row holds no passphrase bytes.
		var sealed []byte
		var sealID string
		if err := db.SQL().QueryRow(`SELECT passphrase, seal_id FROM psks WHERE id = $1`, p1.ID).Scan(&sealed, &sealID); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("Correct-Horse")) || len(sealed) < len(p1.Passphrase)+16 {
			t.Fatalf("stored passphrase looks clear: %q", sealed)
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM psks WHERE psk_id LIKE '%Horse%' OR description LIKE '%Horse%' OR seal_id LIKE '%Horse%'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("passphrase text found in %d rows (%v)", n, err)
		}
		if _, err := e.keys.Open(sealed, "psk:"+sealID); err != nil {
			t.Fatalf("does not open with its seal id: %v", err)
		}
		// A ciphertext moved to another row does not open there.
		if _, err := db.SQL().Exec(`UPDATE psks SET passphrase = $1 WHERE id = $2`, sealed, p2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.LoadPSK(ctx, p2.ID); err == nil {
			t.Fatal("a ciphertext copied to another row opened")
		}
		// Nor under another server secret.
		otherKeys, _ := secret.Derive(bytes.Repeat([]byte{8}, 32))
		stranger := psk.NewService(store.For[psk.Tx](db), otherKeys, event.NewLocal())
		if _, err := stranger.LoadPSK(ctx, p1.ID); err == nil {
			t.Fatal("opened under another server secret")
		}
	})
}

func TestEventsOnChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		p := e.create(t, psk.NewPSK{PSKID: "ev"})
		desc := "changed"
		if _, err := e.svc.Update(ctx, e.admin, src, p.ID, psk.Patch{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		// A patch that changes nothing publishes nothing.
		if _, err := e.svc.Update(ctx, e.admin, src, p.ID, psk.Patch{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		ep, err := e.svc.CreateEndpoint(ctx, e.admin, src, 0, psk.NewEndpoint{MAC: "02:00:00:00:00:09", PSK: psk.PSKRef{Name: "ev"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(ctx, e.admin, src, p.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"psk/created", "psk/updated", "endpoint/created", "endpoint/deleted", "psk/deleted"}
		evs := e.events()
		if len(evs) != len(want) {
			t.Fatalf("events = %+v", evs)
		}
		for i, ev := range evs {
			id := strconv.FormatInt(p.ID, 10)
			if ev.Topic == "endpoint" {
				id = strconv.FormatInt(ep.ID, 10)
			}
			if ev.Topic+"/"+ev.Action != want[i] || ev.ID != id || ev.GroupID != e.group || bytes.Contains(ev.Data, []byte(p.Passphrase)) {
				t.Fatalf("event %d = %+v, want %s", i, ev, want[i])
			}
		}
		if _, err := e.svc.LoadEndpoint(ctx, ep.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("endpoint survived its PSK: %v", err)
		}
	})
}
