package pgbus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
	"netkeep/internal/fault"
)

// postgresURL returns NETKEEP_TEST_POSTGRES_URL or skips tb.
func postgresURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("NETKEEP_TEST_POSTGRES_URL")
	if url == "" {
		tb.Skip("NETKEEP_TEST_POSTGRES_URL is not set; skipping PostgreSQL LISTEN/NOTIFY tests " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return url
}

// testChannel returns a channel name no other test uses, so tests run in parallel.
func testChannel(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "netkeep_test_" + hex.EncodeToString(b[:])
}

// newReplicas starts n buses on one fresh channel, as n server replicas sharing
// one database would, and closes them when tb ends.
func newReplicas(tb testing.TB, n int, opts ...Option) []*Bus {
	tb.Helper()
	url := postgresURL(tb)
	opts = append([]Option{WithChannel(testChannel(tb))}, opts...)
	buses := make([]*Bus, n)
	for i := range buses {
		bus, err := New(tb.Context(), url, opts...)
		if err != nil {
			tb.Fatalf("New: %v", err)
		}
		tb.Cleanup(func() {
			if err := bus.Close(); err != nil {
				tb.Errorf("Close: %v", err)
			}
		})
		buses[i] = bus
	}
	return buses
}

func publish(tb testing.TB, bus event.Bus, e event.Event) {
	tb.Helper()
	if err := bus.Publish(tb.Context(), e); err != nil {
		tb.Fatalf("Publish %s/%s: %v", e.Topic, e.ID, err)
	}
}

// An event reaches each replica's subscriber exactly once. Duplicates are ruled
// out with fences: PostgreSQL delivers notifications in commit order, so a
// duplicate of an earlier event would arrive before a later fence.
func TestDeliversOncePerReplica(t *testing.T) {
	t.Parallel()
	r := newReplicas(t, 2)
	a, b := r[0], r[1]
	subA, subB := a.Subscribe("psk"), b.Subscribe("psk")
	otherB := b.Subscribe("node")

	sent := event.Event{Topic: "psk", Action: "updated", GroupID: 3, ID: "e1", Data: json.RawMessage(`{"vlan":20}`)}
	publish(t, a, sent)
	gotB := eventtest.ExpectIDs(t, subB, "e1")[0]
	publish(t, a, event.Event{Topic: "psk", ID: "fence-a"})
	eventtest.ExpectIDs(t, subB, "fence-a")
	publish(t, b, event.Event{Topic: "psk", ID: "fence-b"})

	gotA := eventtest.ExpectIDs(t, subA, "e1", "fence-a", "fence-b")
	eventtest.ExpectIDs(t, subB, "fence-b")
	if gotA[0].Origin != a.Origin() || gotB.Origin != a.Origin() || gotA[2].Origin != b.Origin() {
		t.Errorf("origins: A saw %s and %s, B saw %s; want A=%s, B=%s",
			gotA[0].Origin, gotA[2].Origin, gotB.Origin, a.Origin(), b.Origin())
	}
	sent.Origin = a.Origin()
	sent.Time = gotA[0].Time
	for name, got := range map[string]event.Event{"A": gotA[0], "B": gotB} {
		if !equalEvents(got, sent) {
			t.Errorf("%s received %+v, want %+v", name, got, sent)
		}
	}
	eventtest.ExpectNothingBuffered(t, otherB)
	if a.Origin() == b.Origin() {
		t.Error("two replicas share an origin")
	}
}

func TestData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		size       int // encoded event size in bytes
		wantRemote bool
	}{
		{"small data travels", 300, true},
		{"data at the NOTIFY limit travels", maxPayload, true},
		{"data over the limit is stripped", maxPayload + 1, false},
		{"large data is stripped", 64 << 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReplicas(t, 2)
			a, b := r[0], r[1]
			subA, subB := a.Subscribe("psk"), b.Subscribe("psk")
			sent := eventOfSize(t, a.Origin(), tt.size)
			publish(t, a, sent)

			if got := eventtest.Receive(t, subA); !equalEvents(got, sent) {
				t.Errorf("local subscriber got %d bytes of data, want all %d", len(got.Data), len(sent.Data))
			}
			got := eventtest.Receive(t, subB)
			want := sent
			if !tt.wantRemote {
				want.Data = nil
			}
			if !equalEvents(got, want) {
				t.Errorf("remote subscriber got %d bytes of data, want %d", len(got.Data), len(want.Data))
			}
		})
	}
}

// An event too large even without Data is refused before anyone sees it.
func TestRejectsOversizedEvent(t *testing.T) {
	t.Parallel()
	a := newReplicas(t, 1)[0]
	sub := a.Subscribe()
	err := a.Publish(t.Context(), event.Event{Topic: "psk", ID: strings.Repeat("i", maxPayload)})
	if !fault.Is(err, fault.TooLarge) {
		t.Fatalf("Publish error = %v, want code %s", err, fault.TooLarge)
	}
	eventtest.ExpectNothingBuffered(t, sub)
}

func TestConcurrentPublish(t *testing.T) {
	t.Parallel()
	const publishers, perPublisher = 8, 50
	r := newReplicas(t, 2, WithBuffer(2*publishers*perPublisher))
	a, b := r[0], r[1]
	subA, subB := a.Subscribe("psk"), b.Subscribe("psk")

	var wg sync.WaitGroup
	for p := range publishers {
		bus := r[p%2]
		wg.Go(func() {
			for seq := range perPublisher {
				if err := bus.Publish(context.Background(), event.Event{Topic: "psk", ID: fmt.Sprintf("%d/%d", p, seq)}); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	eventtest.Within(t, "concurrent publishing", wg.Wait)

	for name, sub := range map[string]*event.Subscription{"A": subA, "B": subB} {
		next := make([]int, publishers)
		for range publishers * perPublisher {
			var p, seq int
			e := eventtest.Receive(t, sub)
			if _, err := fmt.Sscanf(e.ID, "%d/%d", &p, &seq); err != nil {
				t.Fatalf("%s: bad id %q: %v", name, e.ID, err)
			}
			if seq != next[p] {
				t.Fatalf("%s: publisher %d: got seq %d, want %d (lost, duplicated or reordered)", name, p, seq, next[p])
			}
			next[p]++
		}
		if d := sub.Dropped(); d != 0 {
			t.Errorf("%s: Dropped = %d, want 0", name, d)
		}
	}
	// Nothing more is on its way: a fence from each side is next.
	publish(t, a, event.Event{Topic: "psk", ID: "fence-a"})
	eventtest.ExpectIDs(t, subB, "fence-a")
	publish(t, b, event.Event{Topic: "psk", ID: "fence-b"})
	eventtest.ExpectIDs(t, subA, "fence-a", "fence-b")
	eventtest.ExpectIDs(t, subB, "fence-b")
}

// When the listening connection is killed, the bus reconnects, tells every
// subscriber to resynchronise, and delivers again.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	r := newReplicas(t, 2)
	a, b := r[0], r[1]
	subB := b.Subscribe("psk")

	oldPID := b.listenerPID.Load()
	terminateBackend(t, oldPID)

	if e := eventtest.Receive(t, subB); e.Topic != event.TopicBus || e.Action != event.ActionResync || e.Origin != b.Origin() {
		t.Fatalf("got %+v, want a resync from %s", e, b.Origin())
	}
	if b.listenerPID.Load() == oldPID {
		t.Error("listener still reports the terminated backend")
	}
	publish(t, a, event.Event{Topic: "psk", ID: "after-reconnect"})
	eventtest.ExpectIDs(t, subB, "after-reconnect")
}

func terminateBackend(tb testing.TB, pid uint32) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), postgresURL(tb))
	if err != nil {
		tb.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(tb.Context(), "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&ok); err != nil || !ok {
		tb.Fatalf("terminating backend %d: ok=%v err=%v", pid, ok, err)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	bus := newReplicas(t, 1)[0]
	sub := bus.Subscribe("psk")
	pid := bus.listenerPID.Load()

	eventtest.Within(t, "Close", func() {
		if err := bus.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	select {
	case <-bus.done:
	default:
		t.Fatal("listener goroutine still running after Close")
	}
	eventtest.ExpectClosed(t, sub)
	if err := bus.Publish(t.Context(), event.Event{Topic: "psk"}); !errors.Is(err, event.ErrClosed) {
		t.Errorf("Publish after Close: err = %v, want event.ErrClosed", err)
	}
	if err := bus.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitBackendGone(t, pid)
}

// waitBackendGone polls until PostgreSQL no longer lists the backend.
func waitBackendGone(tb testing.TB, pid uint32) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), postgresURL(tb))
	if err != nil {
		tb.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(eventtest.Wait)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := conn.QueryRow(tb.Context(), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", int32(pid)).Scan(&n); err != nil {
			tb.Fatalf("querying pg_stat_activity: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("listener backend %d still connected %v after Close", pid, eventtest.Wait)
		}
		<-tick.C
	}
}

// New checks its arguments before connecting; these cases need no database.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, channel string
		wantCode           fault.Code
	}{
		{"400/empty channel", "postgres://127.0.0.1:1/x", "", fault.Invalid},
		{"400/channel too long", "postgres://127.0.0.1:1/x", strings.Repeat("c", 64), fault.Invalid},
		{"400/bad connection string", "postgres://%zz", DefaultChannel, fault.Invalid},
		{"503/unreachable", "postgres://postgres@127.0.0.1:1/x?connect_timeout=2", DefaultChannel, fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bus, err := New(t.Context(), tt.url, WithChannel(tt.channel))
			if err == nil {
				_ = bus.Close()
				t.Fatal("New succeeded")
			}
			if !fault.Is(err, tt.wantCode) {
				t.Errorf("err = %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

// Resync reaches every subscription of every replica, whatever its topics,
// once each; an ordinary event published as the bus's topic is still
// refused.
func TestResyncReachesEveryReplica(t *testing.T) {
	t.Parallel()
	r := newReplicas(t, 2)
	a, b := r[0], r[1]
	subA, subB := a.Subscribe("psk"), b.Subscribe("node")
	if err := a.Resync(t.Context()); err != nil {
		t.Fatal(err)
	}
	for name, sub := range map[string]*event.Subscription{"A": subA, "B": subB} {
		got := eventtest.Receive(t, sub)
		if got.Topic != event.TopicBus || got.Action != event.ActionResync || got.Origin != a.Origin() {
			t.Errorf("%s received %+v, want A's resync", name, got)
		}
	}
	// A fence proves no second resync is on its way to B.
	publish(t, a, event.Event{Topic: "node", ID: "fence"})
	eventtest.ExpectIDs(t, subB, "fence")
	eventtest.ExpectNothingBuffered(t, subA)
	if err := a.Publish(t.Context(), event.Event{Topic: event.TopicBus, Action: event.ActionResync}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("publishing the bus's topic: %v", err)
	}
}
