package radius

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/radius/nas"
)

// bulkStations adds n PSKs, each with one endpoint, to the source (not yet
// published): ids from base+1, stations 0x0c0000000000+i.
func bulkStations(e *env, base, n int) {
	for i := range n {
		id := int64(base + i + 1)
		e.src.put(PSK{ID: id, GroupID: 1, Passphrase: fmt.Sprintf("bulk-passphrase-%06d", i), VLAN: 200, Enabled: true})
		e.src.putEndpoint(Endpoint{ID: id, GroupID: 1, MAC: MAC(0x0c0000000000 + i), PSKID: id, Enabled: true})
	}
}

// allBound reports whether every station of bulkStations has its PSK.
func allBound(e *env, n int) bool {
	for i := range n {
		g, ok := e.index.ByMAC(1, MAC(0x0c0000000000+i))
		if !ok || g.Cred.Passphrase != fmt.Sprintf("bulk-passphrase-%06d", i) {
			return false
		}
	}
	return true
}

// A bulk change publishes more events than the subscription holds (1,000
// PSKs and their endpoints against a buffer of 256) while the watcher is
// busy: the events lost to the full buffer still take effect, through one
// full reload rather than object by object.
func TestBulkChangeOverflowingTheBusTakesEffect(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	const n = 1000
	bulkStations(e, 100, n)

	// Hold the watcher inside the fetch of the first event.
	release := e.hold(t, event.Event{Topic: TopicPSK, Action: "created", ID: "101"})
	for i := range n {
		id := strconv.Itoa(100 + i + 1)
		_ = e.bus.Publish(context.Background(), event.Event{Topic: TopicPSK, Action: "created", ID: id})
		_ = e.bus.Publish(context.Background(), event.Event{Topic: TopicEndpoint, Action: "created", ID: id})
	}
	if e.index.sub.Dropped() == 0 {
		t.Fatal("the burst did not overflow the subscription; the test proves nothing")
	}
	snaps0, fetches0 := e.src.calls()
	release()

	eventually(t, 5*time.Second, func() bool { return allBound(e, n) }, "stations of the bulk change are missing from the directory")
	snaps, fetches := e.src.calls()
	if snaps == snaps0 {
		t.Fatal("events were dropped but the directory was not reloaded")
	}
	// The held fetch completes; nothing is fetched object by object after
	// the drop was seen.
	if fetches-fetches0 > 1 {
		t.Fatalf("%d single-object fetches after a drop; want the batch coalesced into the reload", fetches-fetches0)
	}
	if got, _, _ := e.index.Counts(); got != n+1 {
		t.Fatalf("directory counts %d endpoints, want %d", got, n+1)
	}
}

// Events waiting together are applied once per object, and a later change
// to one of those objects still takes effect.
func TestEventsAreCoalescedPerObject(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	bulkStations(e, 100, 10)

	release := e.hold(t, event.Event{Topic: TopicPSK, Action: "updated", ID: "7"})
	// 10 PSKs and 10 endpoints, each announced 5 times: 100 events, within
	// the buffer.
	for range 5 {
		for i := range 10 {
			id := strconv.Itoa(100 + i + 1)
			_ = e.bus.Publish(context.Background(), event.Event{Topic: TopicPSK, Action: "updated", ID: id})
			_ = e.bus.Publish(context.Background(), event.Event{Topic: TopicEndpoint, Action: "updated", ID: id})
		}
	}
	if e.index.sub.Dropped() != 0 {
		t.Fatal("events were dropped; the test needs them buffered")
	}
	snaps0, fetches0 := e.src.calls()
	release()
	eventually(t, 5*time.Second, func() bool { return allBound(e, 10) }, "stations missing from the directory")
	eventually(t, 5*time.Second, func() bool { _, f := e.src.calls(); return f-fetches0 >= 21 }, "objects not fetched")
	snaps, fetches := e.src.calls()
	// The held fetch of PSK 7, then each of the 20 objects once.
	if fetches-fetches0 != 21 || snaps != snaps0 {
		t.Fatalf("%d fetches and %d full reloads for 20 objects announced 5 times each; want 21 and 0",
			fetches-fetches0, snaps-snaps0)
	}

	p, _ := e.src.PSK(context.Background(), 105)
	p.Passphrase = "changed after the batch"
	e.src.put(p)
	e.publish(t, TopicPSK, "105", func() bool {
		g, _ := e.index.ByMAC(1, MAC(0x0c0000000000+4))
		return g.Cred.Passphrase == p.Passphrase
	})
}

// An endpoint found by id, without an id index: one moved to another
// station stops authenticating the old one (keeping its last-seen time),
// one deleted disappears, and a reused id binds the new station only.
func TestEndpointMovesAndDeletes(t *testing.T) {
	e := newMACEnv(t, nas.Generic) // endpoint 70: aa:bb:cc:dd:ee:ff, PSK 7
	bulkStations(e, 100, 3)        // PSKs and endpoints 101..103
	for _, n := range []int{102, 103} {
		id := strconv.Itoa(n)
		e.publish(t, TopicPSK, id, func() bool { return e.index.cred(int64(n)) != nil })
		e.publish(t, TopicEndpoint, id, func() bool { _, ok := e.index.ByMAC(1, MAC(0x0c0000000000+n-101)); return ok })
	}
	e.index.Seen(1, 0xaabbccddeeff, e.now.Unix())

	moved := Endpoint{ID: 70, GroupID: 1, MAC: 0x665544332211, PSKID: 7, Enabled: true}
	e.src.putEndpoint(moved)
	e.publish(t, TopicEndpoint, "70", func() bool { _, ok := e.index.ByMAC(1, moved.MAC); return ok })
	if _, ok := e.index.ByMAC(1, 0xaabbccddeeff); ok {
		t.Fatal("the endpoint's old station still authenticates after it moved")
	}
	if err := e.index.FlushSeen(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.src.mu.Lock()
	seen := e.src.touched[70]
	e.src.mu.Unlock()
	if !seen.Equal(e.now) {
		t.Fatalf("last seen %v after the move, want %v", seen, e.now)
	}

	e.src.mu.Lock()
	delete(e.src.eps, 102)
	e.src.mu.Unlock()
	e.publish(t, TopicEndpoint, "102", func() bool { _, ok := e.index.ByMAC(1, MAC(0x0c0000000000+1)); return !ok })

	// Id 103 deleted and created again for another station in one batch.
	e.src.mu.Lock()
	e.src.eps[103] = Endpoint{ID: 103, GroupID: 1, MAC: 0x0d0000000001, PSKID: 103, Enabled: true}
	e.src.mu.Unlock()
	e.publish(t, TopicEndpoint, "103", func() bool { _, ok := e.index.ByMAC(1, 0x0d0000000001); return ok })
	if _, ok := e.index.ByMAC(1, MAC(0x0c0000000000+2)); ok {
		t.Fatal("a reused endpoint id still binds its former station")
	}
	if got, _, _ := e.index.Counts(); got != 2 {
		t.Fatalf("directory counts %d endpoints, want 2 (70 and 103)", got)
	}
}

// A full reload takes every change from the source, keeps the stations'
// last-seen times and the auto-enrolments not stored yet.
func TestFullReloadReplacesEndpoints(t *testing.T) {
	e := newMACEnv(t, nas.Generic) // endpoint 70: aa:bb:cc:dd:ee:ff, PSK 7, VLAN of the PSK (100)
	e.index.Seen(1, 0xaabbccddeeff, e.now.Unix())
	cred := e.index.cred(7)
	e.index.Bind(1, 0x0a0000000001, cred) // in flight: the source does not have it

	ep, _ := e.src.Endpoint(context.Background(), 70)
	ep.VLAN, ep.Enabled = 300, false
	e.src.putEndpoint(ep)
	snaps0, _ := e.src.calls()
	// An event without an id (an import) reloads everything.
	e.publish(t, TopicPSK, "", func() bool { s, _ := e.src.calls(); return s > snaps0 })
	eventually(t, time.Second, func() bool { g, _ := e.index.ByMAC(1, 0xaabbccddeeff); return g.VLAN == 300 }, "reload did not apply the endpoint's change")
	if g, _ := e.index.ByMAC(1, 0xaabbccddeeff); g.Enabled {
		t.Fatal("endpoint still enabled after a reload")
	}
	if _, ok := e.index.ByMAC(1, 0x0a0000000001); !ok {
		t.Fatal("reload lost an auto-enrolment in flight")
	}
	if err := e.index.FlushSeen(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.src.mu.Lock()
	seen := e.src.touched[70]
	e.src.mu.Unlock()
	if !seen.Equal(e.now) {
		t.Fatalf("last seen %v after a reload, want %v", seen, e.now)
	}
}

// An auto-enrolment stored while a full reload runs (after its snapshot,
// before it replaces the directory) survives the reload: the station stays
// bound to the stored endpoint and the directory counts it.
func TestAutoEnrolmentDuringReload(t *testing.T) {
	e := newMACEnv(t, nas.Generic) // endpoint 70: aa:bb:cc:dd:ee:ff, PSK 7
	const station = MAC(0x0a0000000001)
	release := e.holdSnapshot(t, event.Event{Topic: TopicPSK, Action: "imported"})
	e.index.Bind(1, station, e.index.cred(7))
	// Give the binder the time it needs to store and install the binding
	// if it may while the reload is held (it may not: then this waits in
	// vain).
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if g, _ := e.index.ByMAC(1, station); g.EndpointID != 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	release()

	eventually(t, 5*time.Second, func() bool {
		e.src.mu.Lock()
		defer e.src.mu.Unlock()
		return e.src.binds == 1
	}, "the auto-enrolment was not stored")
	eventually(t, 5*time.Second, func() bool {
		g, ok := e.index.ByMAC(1, station)
		return ok && g.EndpointID != 0
	}, "the station lost its stored binding to the reload")
	if got, _, _ := e.index.Counts(); got != 2 {
		t.Fatalf("directory counts %d endpoints, want 2 (70 and the auto-enrolment)", got)
	}
}

// A full reload that takes longer than applying a few objects may (a
// million stations on a busy machine) completes under its own deadline:
// it is not failed by the short one and retried for ever while the
// directory stays as it was.
func TestSlowReloadCompletes(t *testing.T) {
	e := newMACEnv(t, nas.Generic)
	e.index.applyTimeout = 20 * time.Millisecond
	e.src.put(PSK{ID: 8, GroupID: 1, Passphrase: "imported passphrase", Enabled: true})
	release := e.holdSnapshot(t, event.Event{Topic: TopicPSK, Action: "imported"}) // no id: a full reload
	<-time.After(5 * e.index.applyTimeout)                                         // held well past the short deadline
	release()
	eventually(t, 5*time.Second, func() bool { return e.index.cred(8) != nil }, "the imported PSK never reached the directory")
	if snaps, _ := e.src.calls(); snaps != 2 { // the start's and this one
		t.Fatalf("%d snapshots: the held reload failed and was retried", snaps)
	}
}
