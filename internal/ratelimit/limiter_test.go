package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// step is one request in a scripted sequence: advance the clock, call Allow,
// compare the decision.
type step struct {
	advance time.Duration
	want    Decision
}

func run(tb testing.TB, l *Limiter, clock *fakeClock, start time.Time, key string, limits []Limit, steps []step) {
	tb.Helper()
	for i, s := range steps {
		clock.Advance(s.advance)
		got := l.Allow(key, limits...)
		want := s.want
		if got.Allowed != want.Allowed || got.Limit != want.Limit || got.Remaining != want.Remaining ||
			!got.Reset.Equal(want.Reset) || got.RetryAfter != want.RetryAfter {
			tb.Fatalf("step %d (t=%v): got %+v, want %+v", i, clock.Now().Sub(start), got, want)
		}
	}
}

func TestAllowSequences(t *testing.T) {
	t.Parallel()
	minute, hour := time.Minute, time.Hour
	clock0 := newFakeClock().Now()
	at := func(d time.Duration) time.Time { return clock0.Add(d) }
	cases := []struct {
		name   string
		limits []Limit
		steps  []step
	}{
		{
			name:   "exact count at the boundary",
			limits: []Limit{{Max: 3, Window: minute}},
			steps: []step{
				{0, Decision{Allowed: true, Limit: 3, Remaining: 2, Reset: at(minute)}},
				{0, Decision{Allowed: true, Limit: 3, Remaining: 1, Reset: at(minute)}},
				{0, Decision{Allowed: true, Limit: 3, Remaining: 0, Reset: at(minute)}},
				{0, Decision{Limit: 3, Remaining: 0, Reset: at(minute), RetryAfter: minute}},
				{minute - time.Nanosecond, Decision{Limit: 3, Remaining: 0, Reset: at(minute), RetryAfter: time.Nanosecond}},
			},
		},
		{
			name:   "window rolls over at its end",
			limits: []Limit{{Max: 2, Window: minute}},
			steps: []step{
				{0, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: at(minute)}},
				{30 * time.Second, Decision{Allowed: true, Limit: 2, Remaining: 0, Reset: at(minute)}},
				{29 * time.Second, Decision{Limit: 2, Remaining: 0, Reset: at(minute), RetryAfter: time.Second}},
				{time.Second, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: at(2 * minute)}},
				// Idle past the next end: the new window starts at the request.
				{5 * minute, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: at(7 * minute)}},
			},
		},
		{
			name:   "minute and hour: the tighter window reports, a denial counts nowhere",
			limits: []Limit{{Max: 2, Window: minute}, {Max: 3, Window: hour}},
			steps: []step{
				{0, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: at(minute)}},
				{0, Decision{Allowed: true, Limit: 2, Remaining: 0, Reset: at(minute)}},
				{0, Decision{Limit: 2, Remaining: 0, Reset: at(minute), RetryAfter: minute}},
				{0, Decision{Limit: 2, Remaining: 0, Reset: at(minute), RetryAfter: minute}},
				// Hour holds 2 (denials did not count): one more fits it.
				{minute, Decision{Allowed: true, Limit: 3, Remaining: 0, Reset: at(hour)}},
				{0, Decision{Limit: 3, Remaining: 0, Reset: at(hour), RetryAfter: hour - minute}},
			},
		},
		{
			name:   "both deny: the later reset is reported",
			limits: []Limit{{Max: 1, Window: minute}, {Max: 1, Window: hour}},
			steps: []step{
				{0, Decision{Allowed: true, Limit: 1, Remaining: 0, Reset: at(minute)}},
				{0, Decision{Limit: 1, Remaining: 0, Reset: at(hour), RetryAfter: hour}},
			},
		},
		{
			name:   "limits sharing a window share its counter",
			limits: []Limit{{Max: 5, Window: minute}, {Max: 2, Window: minute}},
			steps: []step{
				{0, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: at(minute)}},
				{0, Decision{Allowed: true, Limit: 2, Remaining: 0, Reset: at(minute)}},
				{0, Decision{Limit: 2, Remaining: 0, Reset: at(minute), RetryAfter: minute}},
			},
		},
		{
			name:   "zero max allows nothing",
			limits: []Limit{{Max: 0, Window: minute}},
			steps: []step{
				{0, Decision{Limit: 0, Remaining: 0, Reset: at(minute), RetryAfter: minute}},
			},
		},
		{
			name:   "no limits allows everything",
			limits: nil,
			steps:  []step{{0, Decision{Allowed: true}}, {0, Decision{Allowed: true}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			l := New(clock.Now)
			run(t, l, clock, clock0, "k", c.limits, c.steps)
		})
	}
}

func TestKeysAreIndependent(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	l := New(clock.Now)
	lim := Limit{Max: 1, Window: time.Minute}
	if !l.Allow("a", lim).Allowed || l.Allow("a", lim).Allowed {
		t.Fatal("key a: want one allowed then denied")
	}
	if !l.Allow("b", lim).Allowed {
		t.Fatal("key b was limited by key a")
	}
}

func TestNonPositiveWindowPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a zero Window")
		}
	}()
	New(nil).Allow("k", Limit{Max: 1})
}

// TestConcurrentExact checks under -race that N goroutines × M calls within
// one window let exactly Max through.
func TestConcurrentExact(t *testing.T) {
	t.Parallel()
	const goroutines, calls, limit = 16, 500, 1234
	clock := newFakeClock()
	l := New(clock.Now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range calls {
				if l.Allow("shared", Limit{Max: limit, Window: time.Minute}, Limit{Max: 10 * limit, Window: time.Hour}).Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != limit {
		t.Fatalf("allowed %d of %d calls, want exactly %d", got, goroutines*calls, limit)
	}
}

func TestEviction(t *testing.T) {
	t.Parallel()
	lim := Limit{Max: 10, Window: time.Minute}
	t.Run("idle keys are forgotten", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := New(clock.Now)
		for i := range 5000 {
			l.Allow(fmt.Sprint("old-", i), lim)
		}
		if n := l.Len(); n != 5000 {
			t.Fatalf("tracking %d keys, want 5000", n)
		}
		// Every old window has ended and every shard's sweep is due.
		clock.Advance(time.Minute + time.Duration(sweepEvery))
		for i := range 5000 {
			l.Allow(fmt.Sprint("new-", i), lim)
		}
		if n := l.Len(); n != 5000 {
			t.Fatalf("tracking %d keys after the old ones went idle, want 5000", n)
		}
	})
	t.Run("live keys are capped", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		const maxKeys = 4 * shardCount
		l := New(clock.Now, WithMaxKeys(maxKeys))
		for i := range 20 * maxKeys {
			if !l.Allow(fmt.Sprint("k-", i), lim).Allowed {
				t.Fatalf("key %d denied on its first request", i)
			}
		}
		if n := l.Len(); n > maxKeys {
			t.Fatalf("tracking %d live keys, cap is %d", n, maxKeys)
		}
	})
	t.Run("a key with a live window survives the sweep", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		l := New(clock.Now)
		hour := Limit{Max: 2, Window: time.Hour}
		l.Allow("k", lim, hour)
		l.Allow("k", lim, hour)
		clock.Advance(time.Duration(sweepEvery) + time.Minute)
		if d := l.Allow("k", lim, hour); d.Allowed || d.Limit != 2 {
			t.Fatalf("hour window was forgotten while live: %+v", d)
		}
	})
}

func TestAllowDoesNotAllocateForKnownKey(t *testing.T) {
	clock := newFakeClock()
	l := New(clock.Now)
	limits := []Limit{{Max: 100, Window: time.Minute}, {Max: 1000, Window: time.Hour}}
	l.Allow("known", limits...)
	allocs := testing.AllocsPerRun(1000, func() {
		clock.Advance(time.Second)
		l.Allow("known", limits[0], limits[1])
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per Allow, want 0", allocs)
	}
}

// TestRefund: a refunded request frees its place in the windows it was
// counted in, never below zero, and never in a window that began after it.
func TestRefund(t *testing.T) {
	t.Parallel()
	lim := []Limit{{Max: 2, Window: time.Minute}, {Max: 5, Window: time.Hour}}
	tests := []struct {
		name string
		run  func(l *Limiter, c *fakeClock)
		want int // Remaining of the minute window on the next Allow
	}{
		{"refund frees a place", func(l *Limiter, c *fakeClock) {
			l.Allow("k", lim...)
			l.Refund("k", lim...)
		}, 1},
		{"refunds stop at zero", func(l *Limiter, c *fakeClock) {
			l.Allow("k", lim...)
			l.Refund("k", lim...)
			l.Refund("k", lim...)
		}, 1},
		{"unknown key", func(l *Limiter, c *fakeClock) { l.Refund("k", lim...) }, 1},
		{"no refund into a later window", func(l *Limiter, c *fakeClock) {
			l.Allow("k", lim...)
			c.Advance(2 * time.Minute)
			l.Refund("k", lim...) // the minute window ended: only the hour gets it back
		}, 1},
		{"counted without refund", func(l *Limiter, c *fakeClock) { l.Allow("k", lim...) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			l := New(c.Now)
			tt.run(l, c)
			if d := l.Allow("k", lim...); !d.Allowed || d.Remaining != tt.want {
				t.Fatalf("next Allow: %+v, want remaining %d", d, tt.want)
			}
		})
	}
	// Exhausted, then a refund lets exactly one more through.
	c := newFakeClock()
	l := New(c.Now)
	l.Allow("k", lim...)
	l.Allow("k", lim...)
	if l.Allow("k", lim...).Allowed {
		t.Fatal("third request in the minute allowed")
	}
	l.Refund("k", lim...)
	if !l.Allow("k", lim...).Allowed || l.Allow("k", lim...).Allowed {
		t.Fatal("a refund did not free exactly one place")
	}
}
