package device

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/event"
)

// Registry is the in-memory state of devices that token verification
// reads. It follows the event bus: every "device" event drops that device,
// so the next request reads the store again, and a bus resync or dropped
// events drop everything. Changes made on this replica are applied before
// their event is published. Entries are also reloaded after registryTTL, in
// case an event was lost on its way.
type Registry struct {
	store Store
	now   func() time.Time

	mu      sync.RWMutex
	gen     uint64 // bumped by every drop, so a load racing with one is not kept
	devices map[string]*state

	sub  *event.Subscription
	done chan struct{}
}

// state is one cached device; device and scopes are immutable.
type state struct {
	device  *Device
	scopes  authz.Scopes
	loaded  time.Time
	touched atomic.Int64 // unix ns of the last recorded use
}

const (
	registryTTL = 5 * time.Minute
	maxDevices  = 100_000
)

func newRegistry(st Store, now func() time.Time) *Registry {
	return &Registry{store: st, now: now, devices: map[string]*state{}}
}

// get returns the device's state from memory, reading the store on a miss.
func (r *Registry) get(ctx context.Context, id string) (*state, error) {
	r.mu.RLock()
	st, gen := r.devices[id], r.gen
	r.mu.RUnlock()
	if st != nil && r.now().Sub(st.loaded) < registryTTL {
		return st, nil
	}
	d, err := r.store.Read().DeviceByID(ctx, id)
	if err != nil {
		return nil, err
	}
	scopes, err := authz.ParseScopes(d.Scopes)
	if err != nil {
		return nil, err
	}
	st = &state{device: d, scopes: scopes, loaded: r.now()}
	r.mu.Lock()
	if r.gen == gen {
		if len(r.devices) >= maxDevices {
			r.devices = make(map[string]*state, maxDevices/2)
		}
		r.devices[id] = st
	}
	r.mu.Unlock()
	return st, nil
}

// Drop forgets a device: its next token is checked against the store.
func (r *Registry) Drop(id string) {
	r.mu.Lock()
	delete(r.devices, id)
	r.gen++
	r.mu.Unlock()
}

func (r *Registry) dropAll() {
	r.mu.Lock()
	r.devices = map[string]*state{}
	r.gen++
	r.mu.Unlock()
}

func (r *Registry) follow(bus event.Bus, log *slog.Logger) {
	r.sub = bus.Subscribe(Topic)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		var dropped uint64
		for e := range r.sub.C() {
			switch e.Topic {
			case Topic:
				r.Drop(e.ID)
			case event.TopicBus:
				r.dropAll()
			}
			if d := r.sub.Dropped(); d != dropped {
				dropped = d
				log.Warn("device events were dropped; re-reading every device")
				r.dropAll()
			}
		}
	}()
}

func (r *Registry) close() {
	if r.sub != nil {
		r.sub.Close()
		<-r.done
		r.sub = nil
	}
}
