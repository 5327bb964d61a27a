// Package lockout slows guessing of a secret per key (a login name, an
// account, a mesh node): after Policy.After consecutive failures the key is
// locked for Policy.Base, doubling with every further failure up to
// Policy.Max; a success clears it. State is in memory, per replica: the
// callers' per-IP rate limits bound guessing across keys. Memory is bounded:
// when Policy.MaxKeys keys are tracked, idle and then unlocked keys are
// forgotten. It imports only the standard library.
package lockout

import (
	"sync"
	"time"
)

// Policy is when and for how long a key locks.
type Policy struct {
	After   int           // failures before the first lock
	Base    time.Duration // the first lock; doubles with each further failure
	Max     time.Duration // no lock is longer
	Idle    time.Duration // an unlocked key idle this long may be forgotten
	MaxKeys int           // keys tracked at most
}

// Lockout counts failures per key. The zero value is not usable: use New.
type Lockout struct {
	policy  Policy
	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	fails int
	until time.Time
	last  time.Time
}

// New returns an empty lockout with policy p.
func New(p Policy) *Lockout { return &Lockout{policy: p, entries: map[string]*entry{}} }

// Wait returns how long key stays locked at now (0: it is not).
func (l *Lockout) Wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.entries[key]; e != nil && now.Before(e.until) {
		return e.until.Sub(now)
	}
	return 0
}

// Fail counts a failure of key and returns the lock now in force (0: none).
func (l *Lockout) Fail(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		if len(l.entries) >= l.policy.MaxKeys {
			l.forget(now)
		}
		e = &entry{}
		l.entries[key] = e
	}
	e.fails++
	e.last = now
	if e.fails < l.policy.After {
		return 0
	}
	d := min(l.policy.Base<<min(e.fails-l.policy.After, 10), l.policy.Max)
	e.until = now.Add(d)
	return d
}

// Succeed clears key's failures.
func (l *Lockout) Succeed(key string) {
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

// forget drops idle unlocked keys, and when still full every unlocked one;
// called with mu held.
func (l *Lockout) forget(now time.Time) {
	for k, e := range l.entries {
		if !now.Before(e.until) && now.Sub(e.last) > l.policy.Idle {
			delete(l.entries, k)
		}
	}
	if len(l.entries) < l.policy.MaxKeys {
		return
	}
	for k, e := range l.entries {
		if !now.Before(e.until) {
			delete(l.entries, k)
		}
	}
}

// Seconds is d in whole seconds, rounded up and at least 1: the value of a
// Retry-After header or a retry_after detail.
func Seconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
