package mesh

import "sync"

// changeLog is a network's recent stream messages, shared by all its
// streams: a change is appended once, in O(1), and every stream reads it
// through its own cursor, keeping what concerns its node. Its capacity
// bounds both its memory and how far a consumer may fall behind; a consumer
// whose next message was overwritten must resync.
//
// Readers wait on wake, which append replaces and signal closes: one close
// wakes every waiting stream, however many there are. Waking costs the
// runtime O(waiters), so it happens after the network's lock is released
// (netState.unlock), not while a change holds it.
type changeLog struct {
	mu      sync.RWMutex
	entries []logEntry // a ring once full: position p is at p % cap
	limit   int
	next    uint64 // position of the next append
	wake    chan struct{}
	woken   []chan struct{} // replaced wake channels not closed yet
}

// logEntry is one message and whom it is for.
type logEntry struct {
	msg     []byte
	to      recipients
	subject *member
}

type recipients uint8

const (
	toPeers   recipients = iota // every active node but the subject
	toSubject                   // the subject's own streams
	toAll                       // every stream
)

func newChangeLog(limit int) *changeLog {
	return &changeLog{limit: max(limit, 1), wake: make(chan struct{})}
}

// end is the position the next append takes.
func (l *changeLog) end() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.next
}

// append adds entries and wakes every waiting reader.
func (l *changeLog) append(es ...logEntry) {
	if len(es) == 0 {
		return
	}
	l.mu.Lock()
	for _, e := range es {
		if len(l.entries) < l.limit {
			l.entries = append(l.entries, e)
		} else {
			l.entries[l.next%uint64(l.limit)] = e
		}
		l.next++
	}
	l.woken = append(l.woken, l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
}

// signal wakes the readers waiting for what was appended.
func (l *changeLog) signal() {
	l.mu.Lock()
	woken := l.woken
	l.woken = nil
	l.mu.Unlock()
	for _, ch := range woken {
		close(ch)
	}
}

// read returns the entry at pos, or nil and the channel to wait on when pos
// is not written yet, or behind when pos has been overwritten.
func (l *changeLog) read(pos uint64) (e *logEntry, wake <-chan struct{}, behind bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	switch {
	case pos >= l.next:
		return nil, l.wake, false
	case l.next-pos > uint64(l.limit):
		return nil, nil, true
	}
	entry := l.entries[pos%uint64(l.limit)]
	return &entry, nil, false
}
