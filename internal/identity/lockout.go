package identity

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// lockout slows password and TOTP guessing per key: the login name as typed
// (tracked whether or not such a user exists, so its answers never reveal
// existence) and the account it resolved to (so the username and the email
// of one account share one count). After lockThreshold consecutive failures
// a key is locked for lockBase,
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

// nameKey is the lock key of a login name; accountKey of an account. The
// prefixes keep the two spaces apart.
func nameKey(login string) string { return "name:" + strings.ToLower(strings.TrimSpace(login)) }
func accountKey(id int64) string  { return "user:" + strconv.FormatInt(id, 10) }

// locked returns how long key remains locked at now (0: not locked).
func (l *lockout) locked(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil || !now.Before(e.until) {
		return 0
	}
	return e.until.Sub(now)
}

// fail records a failure and returns the lock now in force (0 if none).
func (l *lockout) fail(k string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
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

// succeed clears key's failures.
func (l *lockout) succeed(key string) {
	l.mu.Lock()
	delete(l.entries, key)
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
