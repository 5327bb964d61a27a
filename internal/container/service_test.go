package container_test

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/container"
	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// engine is a runtime kept in memory: the edge these tests fake (the
// Docker runtime is tested on a real engine in internal/docker and
// internal/server). Containers named "broken-*" refuse every operation;
// "ambiguous-*" references are refused by Inspect, as an id prefix that
// matches two containers is; operations on "slow-*" take a while, so
// that a bulk operation's containers finish out of order.
type engine struct {
	mu     sync.Mutex
	states map[string]string
	ops    []string
}

func newEngine(states map[string]string) *engine { return &engine{states: states} }

func (e *engine) Name() string { return container.RuntimeDocker }

func (e *engine) List(_ context.Context, f container.Filter) ([]container.Summary, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []container.Summary
	for id, st := range e.states {
		out = append(out, container.Summary{ID: id, Name: id, State: st, Runtime: container.RuntimeDocker})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (e *engine) Inspect(_ context.Context, id string) (*container.Detail, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if strings.HasPrefix(id, "ambiguous-") {
		return nil, fault.New(fault.Conflict, "the engine refused: multiple IDs found with provided prefix")
	}
	st, ok := e.states[id]
	if !ok {
		return nil, fault.New(fault.NotFound, "container not found")
	}
	return &container.Detail{Summary: container.Summary{ID: id, Name: id, State: st, Runtime: container.RuntimeDocker}}, nil
}

func (e *engine) set(op, id, state string) error {
	if strings.HasPrefix(id, "slow-") {
		time.Sleep(50 * time.Millisecond)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ops = append(e.ops, op+" "+id)
	if len(id) > 7 && id[:7] == "broken-" {
		return fault.New(fault.Conflict, "the engine refused: no such command")
	}
	e.states[id] = state
	return nil
}

func (e *engine) Start(_ context.Context, id string) error {
	return e.set("start", id, container.StateRunning)
}
func (e *engine) Stop(_ context.Context, id string, _ time.Duration) error {
	return e.set("stop", id, container.StateExited)
}
func (e *engine) Restart(_ context.Context, id string, _ time.Duration) error {
	return e.set("restart", id, container.StateRunning)
}
func (e *engine) Stats(_ context.Context, id string) (*container.Stats, error) {
	return &container.Stats{ContainerID: id}, nil
}
func (e *engine) Logs(context.Context, string, container.LogOptions, func(container.LogLine) bool) error {
	return nil
}
func (e *engine) Events(context.Context, func(container.Event)) error { return nil }

func (e *engine) done() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.ops)
	sort.Strings(out)
	return out
}

var (
	super = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	src   = audit.Source{Actor: "test", IP: "127.0.0.1"}
)

type fixture struct {
	svc *container.Service
	eng *engine
	db  *store.DB
	sub *event.Subscription
}

func setup(t *testing.T, db *store.DB, states map[string]string) *fixture {
	t.Helper()
	bus := event.NewLocal()
	t.Cleanup(func() { bus.Close() })
	sub := bus.Subscribe(container.Topic)
	t.Cleanup(sub.Close)
	eng := newEngine(states)
	return &fixture{svc: container.NewService(store.For[container.Tx](db), bus, []container.Runtime{eng}), eng: eng, db: db, sub: sub}
}

func (f *fixture) audits(t *testing.T, action string) int {
	t.Helper()
	es, err := f.db.Read().ListAudit(context.Background(), audit.Query{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func completion(t *testing.T, sub *event.Subscription) container.Completion {
	t.Helper()
	e := eventtest.Receive(t, sub)
	var c container.Completion
	if err := json.Unmarshal(e.Data, &c); err != nil {
		t.Fatal(err)
	}
	if e.Action != c.Type() || e.GroupID != 0 {
		t.Errorf("event %s group %d for %+v", e.Action, e.GroupID, c)
	}
	return c
}

// Operate validates, audits, runs in the background and publishes the
// outcome, failures included; refused requests change and record nothing.
func TestOperate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, map[string]string{"web": container.StateRunning, "broken-app": container.StateExited})
		ctx := context.Background()
		groupAdmin := &authz.Principal{Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: 1, UserID: 2}
		writeKey := &authz.Principal{Kind: authz.KindAPIKey, Role: authz.SuperAdmin, KeyID: "k", Scopes: mustScopes(t, "write:*")}
		readKey := &authz.Principal{Kind: authz.KindAPIKey, Role: authz.SuperAdmin, KeyID: "r", Scopes: mustScopes(t, "read:*")}
		refusals := []struct {
			name    string
			p       *authz.Principal
			op      container.Operation
			id      string
			timeout int
			want    fault.Code
		}{
			{"403/group admin", groupAdmin, container.OpStop, "web", 10, fault.Forbidden},
			{"403/read-only key", readKey, container.OpStop, "web", 10, fault.Forbidden},
			{"401/nobody", nil, container.OpStop, "web", 10, fault.Unauthorized},
			{"400/timeout 0", super, container.OpStop, "web", 0, fault.Invalid},
			{"400/timeout 301", super, container.OpRestart, "web", 301, fault.Invalid},
			{"400/unknown operation", super, "pause", "web", 10, fault.Invalid},
			{"404/unknown container", super, container.OpStart, "nope", 10, fault.NotFound},
			{"404/not a container reference", super, container.OpStart, "../etc", 10, fault.NotFound},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := f.svc.Operate(ctx, tt.p, src, tt.op, tt.id, tt.timeout); fault.CodeOf(err) != tt.want {
					t.Errorf("got %v, want %s", err, tt.want)
				}
			})
		}
		f.svc.Wait()
		if ops := f.eng.done(); len(ops) != 0 || f.audits(t, "container.stop") != 0 {
			t.Fatalf("refusals acted: %v", ops)
		}

		a, err := f.svc.Operate(ctx, writeKey, src, container.OpStop, "web", 300)
		if err != nil || a.ContainerID != "web" || a.Operation != container.OpStop || a.Timeout != 300 {
			t.Fatalf("stop: %+v %v", a, err)
		}
		if c := completion(t, f.sub); c.ContainerID != "web" || c.Status != "stopped" || c.Error != "" || c.Message == "" {
			t.Errorf("completion: %+v", c)
		}
		if _, err := f.svc.Operate(ctx, super, src, container.OpStart, "broken-app", 10); err != nil {
			t.Fatal(err)
		}
		if c := completion(t, f.sub); c.Status != "failed" || c.Error != "the engine refused: no such command" ||
			c.Type() != "container.start.completed" {
			t.Errorf("failure: %+v", c)
		}
		if f.audits(t, "container.stop") != 1 || f.audits(t, "container.start") != 1 {
			t.Errorf("audit entries missing")
		}
	})
}

// The bulk operations report every container; start-all starts only
// those not running, stop-all stops only those running, restart-all
// restarts all.
func TestBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		states := func() map[string]string {
			return map[string]string{"a": container.StateRunning, "b": container.StateExited, "c": container.StateCreated, "broken-d": container.StateExited}
		}
		tests := []struct {
			name    string
			op      container.Operation
			ops     []string
			results map[string]string // id -> status
		}{
			{"start-all", container.OpStart, []string{"start b", "start broken-d", "start c"},
				map[string]string{"b": "started", "c": "started", "broken-d": "failed"}},
			{"stop-all", container.OpStop, []string{"stop a"}, map[string]string{"a": "stopped"}},
			{"restart-all", container.OpRestart, []string{"restart a", "restart b", "restart broken-d", "restart c"},
				map[string]string{"a": "restarted", "b": "restarted", "c": "restarted", "broken-d": "failed"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := setup(t, db, states())
				rs, err := f.svc.All(ctx, super, src, tt.op, 10)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.eng.done(); !slices.Equal(got, tt.ops) {
					t.Errorf("engine did %v, want %v", got, tt.ops)
				}
				if len(rs) != len(tt.results) {
					t.Fatalf("results %+v", rs)
				}
				for _, r := range rs {
					if tt.results[r.ContainerID] != r.Status || r.Success != (r.Status != "failed") || (r.Status == "failed") != (r.Error != "") {
						t.Errorf("result %+v", r)
					}
				}
			})
		}

		t.Run("batch", func(t *testing.T) {
			f := setup(t, db, states())
			rs, err := f.svc.Batch(ctx, super, src, container.OpStop, []string{"a", "missing", "broken-d"}, 5)
			if err != nil {
				t.Fatal(err)
			}
			want := []container.Result{{ContainerID: "a", Name: "a", Success: true, Status: "stopped"},
				{ContainerID: "missing", Status: "not_found", Error: "container not found"},
				{ContainerID: "broken-d", Name: "broken-d", Status: "failed", Error: "the engine refused: no such command"}}
			if !slices.Equal(rs, want) {
				t.Errorf("results %+v\nwant %+v", rs, want)
			}
			if n := f.audits(t, "container.stop"); n < 2 {
				t.Errorf("%d audit entries", n)
			}
		})
		// Results keep the request's order, one per reference, whatever
		// order the containers finish in: a reference named twice has two
		// results, and one the engine refuses fails at its own place.
		t.Run("batch order", func(t *testing.T) {
			f := setup(t, db, map[string]string{"slow-a": container.StateRunning, "b": container.StateRunning,
				"slow-c": container.StateExited, "broken-d": container.StateRunning})
			ids := []string{"slow-a", "missing", "b", "ambiguous-1", "slow-c", "broken-d", "b"}
			before := f.audits(t, "container.restart")
			rs, err := f.svc.Batch(ctx, super, src, container.OpRestart, ids, 5)
			if err != nil {
				t.Fatal(err)
			}
			want := []container.Result{
				{ContainerID: "slow-a", Name: "slow-a", Success: true, Status: "restarted"},
				{ContainerID: "missing", Status: "not_found", Error: "container not found"},
				{ContainerID: "b", Name: "b", Success: true, Status: "restarted"},
				{ContainerID: "ambiguous-1", Status: "failed", Error: "the engine refused: multiple IDs found with provided prefix"},
				{ContainerID: "slow-c", Name: "slow-c", Success: true, Status: "restarted"},
				{ContainerID: "broken-d", Name: "broken-d", Status: "failed", Error: "the engine refused: no such command"},
				{ContainerID: "b", Name: "b", Success: true, Status: "restarted"},
			}
			if !slices.Equal(rs, want) {
				t.Errorf("results %+v\nwant %+v", rs, want)
			}
			wantOps := []string{"restart b", "restart b", "restart broken-d", "restart slow-a", "restart slow-c"}
			if got := f.eng.done(); !slices.Equal(got, wantOps) {
				t.Errorf("engine did %v, want %v", got, wantOps)
			}
			if n := f.audits(t, "container.restart") - before; n != len(wantOps) {
				t.Errorf("%d audit entries, want %d", n, len(wantOps))
			}
		})
		t.Run("batch refusals", func(t *testing.T) {
			f := setup(t, db, states())
			for _, ids := range [][]string{nil, make([]string, container.MaxBatch+1)} {
				if _, err := f.svc.Batch(ctx, super, src, container.OpStop, ids, 5); !fault.Is(err, fault.Invalid) {
					t.Errorf("%d ids: %v", len(ids), err)
				}
			}
			if len(f.eng.done()) != 0 {
				t.Error("a refused batch acted")
			}
		})
	})
}

// Runtime filters: a runtime that is not configured is unavailable, an
// unknown name invalid; no runtime at all makes every call unavailable.
func TestRuntimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, map[string]string{"a": container.StateRunning})
		tests := []struct {
			runtime string
			want    fault.Code
		}{{"", ""}, {"docker", ""}, {"kubernetes", fault.Unavailable}, {"lxc", fault.Invalid}}
		for _, tt := range tests {
			if _, err := f.svc.List(ctx, super, container.Filter{Runtime: tt.runtime}); fault.CodeOf(err) != tt.want {
				t.Errorf("runtime %q: %v, want %q", tt.runtime, err, tt.want)
			}
		}
		none := container.NewService(store.For[container.Tx](db), event.NewLocal(), nil)
		if _, err := none.List(ctx, super, container.Filter{}); !fault.Is(err, fault.Unavailable) {
			t.Errorf("no runtime: %v", err)
		}
		if _, err := none.Operate(ctx, super, src, container.OpStart, "a", 10); !fault.Is(err, fault.Unavailable) {
			t.Errorf("no runtime: %v", err)
		}
		err := f.svc.Logs(ctx, super, "a", container.LogOptions{Tail: container.MaxTail + 1}, func(container.LogLine) bool { return true })
		if !fault.Is(err, fault.Invalid) {
			t.Errorf("tail too long: %v", err)
		}
	})
}

func mustScopes(t *testing.T, names ...string) authz.Scopes {
	t.Helper()
	s, err := authz.ParseScopes(names)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
