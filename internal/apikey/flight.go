package apikey

import (
	"context"
	"sync"
)

// flights makes concurrent cache misses for one hash share a single load, so
// a burst of requests with a key that is not cached yet reads the store once.
type flights struct {
	mu sync.Mutex
	m  map[[32]byte]*flight
}

type flight struct {
	done chan struct{}
	e    *entry
	err  error
}

// do runs load for h unless a load for h is in flight, in which case it waits
// for that one's result (or for ctx). The leader's result, including an error
// from its own context, is what every waiter gets.
func (f *flights) do(ctx context.Context, h [32]byte, load func() (*entry, error)) (*entry, error) {
	f.mu.Lock()
	if fl := f.m[h]; fl != nil {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.e, fl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.m == nil {
		f.m = make(map[[32]byte]*flight)
	}
	fl := &flight{done: make(chan struct{})}
	f.m[h] = fl
	f.mu.Unlock()

	defer func() {
		f.mu.Lock()
		delete(f.m, h)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.e, fl.err = load()
	return fl.e, fl.err
}
