package identity

import (
	"strings"
	"sync"
	"time"
)

// lockout slows password and TOTP guessing per login name. It tracks names
// whether or not such a user exists, so its answers never reveal existence.
// After lockThreshold consecutive failures a name is locked for lockBase,
// doubling with every further failure up to lockMax. State is in memory (per
// replica); the per-IP rate limit bounds guessing across names.
type lockout struct {
	mu      sync.Mutex
	entries map[string]*lockEntry
}

type lockEntry struct {
	fails  int
	until  time.Time
	lastAt time.Time
}

const (
	lockThreshold = 5
	lockBase      = 30 * time.Second
	lockMax       = 15 * time.Minute
	lockForget    = time.Hour // idle entries are dropped after this
	lockMaxNames  = 100_000
)

func newLockout() *lockout { return &lockout{entries: map[string]*lockEntry{}} }

func lockKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// locked returns how long login remains locked at now (0: not locked).
func (l *lockout) locked(login string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[lockKey(login)]
	if e == nil || !now.Before(e.until) {
		return 0
	}
	return e.until.Sub(now)
}

// fail records a failure and returns the lock now in force (0 if none).
func (l *lockout) fail(login string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := lockKey(login)
	e := l.entries[k]
	if e == nil {
		if len(l.entries) >= lockMaxNames {
			l.sweep(now)
		}
		e = &lockEntry{}
		l.entries[k] = e
	}
	e.fails++
	e.lastAt = now
	if e.fails < lockThreshold {
		return 0
	}
	d := lockBase << min(e.fails-lockThreshold, 10)
	if d > lockMax {
		d = lockMax
	}
	e.until = now.Add(d)
	return d
}

// succeed clears login's failures.
func (l *lockout) succeed(login string) {
	l.mu.Lock()
	delete(l.entries, lockKey(login))
	l.mu.Unlock()
}

// sweep drops idle entries; called with mu held when the map is full.
func (l *lockout) sweep(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.lastAt) > lockForget && !now.Before(e.until) {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= lockMaxNames { // still full: forget the unlocked ones
		for k, e := range l.entries {
			if !now.Before(e.until) {
				delete(l.entries, k)
			}
		}
	}
}
