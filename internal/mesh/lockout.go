package mesh

import (
	"sync"
	"time"

	"netkeep/internal/fault"
)

// nodeLockout slows password guessing per node: after lockAfter consecutive
// failures for one network and MAC a node is locked for lockFor, doubling
// with every further failure up to lockAtMost. It counts MACs whether or
// not such a node exists, so a lock never tells whether one does. State is
// in memory (per replica); the per-IP limit of the endpoint bounds guessing
// across nodes. Memory is bounded by lockMaxKeys.
type nodeLockout struct {
	mu    sync.Mutex
	fails map[string]lockState
}

type lockState struct {
	count int
	until time.Time
	last  time.Time
}

const (
	lockAfter   = 10
	lockFor     = 30 * time.Second
	lockAtMost  = 15 * time.Minute
	lockIdle    = time.Hour // an unlocked entry idle this long is forgotten
	lockMaxKeys = 100_000
)

// wait returns how long key stays locked at now (0: it is not).
func (l *nodeLockout) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st, ok := l.fails[key]; ok && now.Before(st.until) {
		return st.until.Sub(now)
	}
	return 0
}

// failed counts a failure and returns the lock it sets (0: none yet).
func (l *nodeLockout) failed(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails == nil {
		l.fails = map[string]lockState{}
	}
	st, ok := l.fails[key]
	if !ok && len(l.fails) >= lockMaxKeys {
		l.forget(now)
	}
	st.count++
	st.last = now
	var d time.Duration
	if st.count >= lockAfter {
		d = min(lockFor<<min(st.count-lockAfter, 10), lockAtMost)
		st.until = now.Add(d)
	}
	l.fails[key] = st
	return d
}

// succeeded clears key's failures.
func (l *nodeLockout) succeeded(key string) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}

// forget drops unlocked entries, idle ones first; called with mu held
// when the map is full.
func (l *nodeLockout) forget(now time.Time) {
	for k, st := range l.fails {
		if !now.Before(st.until) && now.Sub(st.last) > lockIdle {
			delete(l.fails, k)
		}
	}
	for k, st := range l.fails {
		if len(l.fails) < lockMaxKeys {
			return
		}
		if !now.Before(st.until) {
			delete(l.fails, k)
		}
	}
}

// errNodeLocked is the answer while a node is locked: 429, with the wait
// in details.retry_after (seconds, at least 1).
func errNodeLocked(d time.Duration) error {
	secs := max(int((d+time.Second-1)/time.Second), 1)
	return fault.Errorf(fault.RateLimited, "too many failed attempts for this node; retry in %d seconds", secs).
		WithReason(ReasonNodeLocked).WithDetails(map[string]any{"retry_after": secs})
}
