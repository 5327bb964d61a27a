package mesh

import "sync"

// Pushed streams. A stream consumed with Next or TryNext needs a goroutine
// waiting on it, and a goroutine's stack is most of what an idle connected
// agent costs the server (tens of KiB once the stack has grown serving the
// full view). A transport that calls Stream.Push instead is told when to
// write: one dispatcher goroutine per network (while it has pushed streams)
// waits for the change log and calls every pushed stream's function, which
// starts a short-lived writer only when there is something to write. An
// idle pushed stream then costs no goroutine here at all.

// pushSet is a network's pushed streams.
type pushSet struct {
	mu      sync.Mutex
	fns     map[*Stream]func()
	running bool          // a dispatcher runs
	poke    chan struct{} // wakes the dispatcher when the set empties
}

// Push registers ready, to be called whenever messages may be waiting for
// the stream (call TryNext until it returns none) and when it ended
// (TryNext then returns ErrStreamEnded). ready must not block: start a
// goroutine or signal one. It is called once at once, since messages may
// already be waiting. Closing the stream unregisters it.
func (s *Stream) Push(ready func()) {
	st := s.st
	st.mu.Lock()
	ended := s.slot < 0
	if !ended {
		s.ready.Store(&ready)
		p := &st.push
		p.mu.Lock()
		if p.fns == nil {
			p.fns, p.poke = map[*Stream]func(){}, make(chan struct{}, 1)
		}
		p.fns[s] = ready
		if !p.running {
			// The dispatcher starts from the log's end as of now, under
			// st.mu: a change appended after this registration but before
			// the goroutine runs is then still ahead of it. Read in the
			// goroutine, the end could already be past that change, and
			// nobody would be told of it (ready, below, may look before
			// the change lands).
			p.running = true
			go st.dispatch(st.log.end())
		}
		p.mu.Unlock()
	}
	st.mu.Unlock()
	ready()
}

// unpush unregisters s. The caller holds st.mu.
func (st *netState) unpush(s *Stream) {
	if s.ready.Load() == nil {
		return
	}
	p := &st.push
	p.mu.Lock()
	delete(p.fns, s)
	if len(p.fns) == 0 {
		select {
		case p.poke <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
}

// dispatch tells every pushed stream of the network about each batch of
// changes appended to the log from pos on, until none is left. Changes
// appended while it calls them are covered by its next round.
func (st *netState) dispatch(pos uint64) {
	p := &st.push
	var fns []func()
	for {
		if _, wake, _ := st.log.read(pos); wake != nil {
			select {
			case <-wake:
			case <-p.poke:
			}
		}
		pos = st.log.end()
		p.mu.Lock()
		if len(p.fns) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		fns = fns[:0]
		for _, fn := range p.fns {
			fns = append(fns, fn)
		}
		p.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
		clear(fns)
	}
}
