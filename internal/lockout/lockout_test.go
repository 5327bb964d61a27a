package lockout_test

import (
	"testing"
	"time"

	"netkeep/internal/lockout"
)

func TestLockout(t *testing.T) {
	p := lockout.Policy{After: 3, Base: 30 * time.Second, Max: 2 * time.Minute, Idle: time.Hour, MaxKeys: 4}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		steps func(l *lockout.Lockout) (got, want time.Duration)
	}{
		{"below threshold: no lock", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			l.Fail("a", t0)
			return l.Fail("a", t0), 0
		}},
		{"threshold: base lock", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			l.Fail("a", t0)
			l.Fail("a", t0)
			return l.Fail("a", t0), 30 * time.Second
		}},
		{"doubling up to max", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			var d time.Duration
			for range 7 {
				d = l.Fail("a", t0)
			}
			return d, 2 * time.Minute
		}},
		{"wait counts down", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			for range 3 {
				l.Fail("a", t0)
			}
			return l.Wait("a", t0.Add(10*time.Second)), 20 * time.Second
		}},
		{"lock expires", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			for range 3 {
				l.Fail("a", t0)
			}
			return l.Wait("a", t0.Add(30*time.Second)), 0
		}},
		{"keys are apart", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			for range 3 {
				l.Fail("a", t0)
			}
			return l.Wait("b", t0), 0
		}},
		{"success clears", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			l.Fail("a", t0)
			l.Fail("a", t0)
			l.Succeed("a")
			return l.Fail("a", t0), 0
		}},
		{"full: idle unlocked keys are forgotten, locks kept", func(l *lockout.Lockout) (time.Duration, time.Duration) {
			later := t0.Add(2 * time.Hour)
			for _, k := range []string{"x", "y", "z"} {
				l.Fail(k, t0)
			}
			for range 3 {
				l.Fail("locked", later)
			}
			l.Fail("new", later) // full: x, y, z are idle and go
			for range 2 {
				l.Fail("x", later)
			}
			return l.Wait("locked", later) + l.Wait("x", later), 30 * time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.steps(lockout.New(p)); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 30 * time.Second: 30} {
		if got := lockout.Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", d, got, want)
		}
	}
}
