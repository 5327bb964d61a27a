package container

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"netkeep/internal/event"
)

// TypeState is the action (and message type) of a StateChange on Topic.
// The seed documents only the completions of netkeep's own operations;
// this netkeep message tells clients of every change, whoever made it (a
// `docker stop` on the host, a crash, a restart policy).
const TypeState = "container.state"

// The state a removed container is reported in.
const StateRemoved = "removed"

// StateChange is the data of a TypeState message.
type StateChange struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name,omitempty"`
	Runtime     string `json:"runtime"`
	Action      string `json:"action"` // the runtime's word: "start", "die", ...
	State       string `json:"state"`  // StateRunning, StateExited, ..., StateRemoved
	Timestamp   int64  `json:"timestamp"`
}

// stateAfter is the state a container is in after a runtime's event, for
// the events that change it. A stop is reported once: by "die", which
// every way of ending a container (stop, kill, crash, restart) sends.
func stateAfter(action string) (string, bool) {
	switch action {
	case "start", "unpause":
		return StateRunning, true
	case "die":
		return StateExited, true
	case "pause":
		return StatePaused, true
	case "create":
		return StateCreated, true
	case "destroy":
		return StateRemoved, true
	}
	return "", false
}

// Watch follows the events of every runtime until ctx ends and publishes
// a StateChange on Topic for each change of a container's state. A runtime
// whose events cannot be followed (its engine is away) is tried again
// after retry; changes made while it was away are not reported, so a
// client that sees the stream resume should list the containers again.
func (s *Service) Watch(ctx context.Context, retry time.Duration) {
	var wg sync.WaitGroup
	for _, rt := range s.runtimes {
		wg.Go(func() { s.watch(ctx, rt, retry) })
	}
	wg.Wait()
}

func (s *Service) watch(ctx context.Context, rt Runtime, retry time.Duration) {
	warned := false
	for ctx.Err() == nil {
		err := rt.Events(ctx, func(e Event) { s.changed(rt, e) })
		if ctx.Err() != nil {
			return
		}
		if !warned {
			s.log.Warn("container events unavailable; retrying", "runtime", rt.Name(), "retry", retry, "err", err)
			warned = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// changed publishes the StateChange of e, if e changes a state.
func (s *Service) changed(rt Runtime, e Event) {
	state, ok := stateAfter(e.Action)
	if !ok || e.ContainerID == "" {
		return
	}
	at := e.Time
	if at.IsZero() {
		at = s.now()
	}
	data, err := json.Marshal(StateChange{ContainerID: e.ContainerID, Name: e.Name, Runtime: rt.Name(),
		Action: e.Action, State: state, Timestamp: at.Unix()})
	if err == nil {
		err = s.bus.Publish(context.Background(), event.Event{Topic: Topic, Action: TypeState, ID: e.ContainerID, Data: data, Time: at})
	}
	if err != nil && !errors.Is(err, event.ErrClosed) {
		s.log.Warn("publishing a container state change", "container", e.ContainerID, "err", err)
	}
}
