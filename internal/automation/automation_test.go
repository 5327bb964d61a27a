package automation_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/automation"
	"netkeep/internal/fault"
	"netkeep/internal/procrun"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var (
	master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	src    = audit.Source{Actor: "test"}
)

type runner struct{}

func (runner) Run(ctx context.Context, r automation.RunRequest) (*automation.RunResult, error) {
	res, err := procrun.Run(ctx, procrun.Request{Path: r.Path, Dir: r.Dir, Env: r.Env, Timeout: r.Timeout, MaxOutput: r.MaxOutput})
	if err != nil {
		return nil, err
	}
	return &automation.RunResult{ExitCode: res.ExitCode, Output: res.Output, Truncated: res.Truncated, TimedOut: res.TimedOut}, nil
}

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// newService is a service over db with scripts ok.sh and fail.sh in a
// fresh directory, registered as "ok" and "fail".
func newService(t *testing.T, db *store.DB, dir string) *automation.Service {
	t.Helper()
	svc := automation.NewService(t.Context(), store.For[automation.Tx](db), runner{}, automation.Config{Dir: dir},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return svc
}

func scriptsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"ok.sh": "echo ok", "fail.sh": "echo no; exit 2"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func register(t *testing.T, svc *automation.Service, names ...string) {
	t.Helper()
	for _, n := range names {
		path := n + ".sh"
		if _, err := svc.Create(context.Background(), master, src, automation.NewScript{Name: &n, ScriptPath: &path}); err != nil {
			t.Fatal(err)
		}
	}
}

// A workflow runs its steps in order, one linked execution each; a failing
// step stops the rest unless it says continue.
func TestWorkflow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db, scriptsDir(t))
		register(t, svc, "ok", "fail")
		cases := []struct {
			name      string
			steps     []automation.Step
			want      []automation.Status
			runStatus automation.Status
		}{
			{"all pass", []automation.Step{{ScriptID: "ok"}, {ScriptID: "ok"}}, []automation.Status{automation.Completed, automation.Completed}, automation.Completed},
			{"stop at a failure", []automation.Step{{ScriptID: "ok"}, {ScriptID: "fail"}, {ScriptID: "ok"}}, []automation.Status{automation.Completed, automation.Failed}, automation.Failed},
			{"continue past a failure", []automation.Step{{ScriptID: "fail", OnFailure: "continue"}, {ScriptID: "ok"}}, []automation.Status{automation.Failed, automation.Completed}, automation.Failed},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w, err := svc.CreateWorkflow(ctx, master, src, automation.NewWorkflow{Name: "wf " + c.name, Steps: c.steps})
				if err != nil {
					t.Fatal(err)
				}
				run, err := svc.RunWorkflow(ctx, master, src, w.ID)
				if err != nil {
					t.Fatal(err)
				}
				if run.Status != c.runStatus || len(run.Executions) != len(c.want) {
					t.Fatalf("run %s with %d executions, want %s with %d", run.Status, len(run.Executions), c.runStatus, len(c.want))
				}
				for i, e := range run.Executions {
					if e.Status != c.want[i] || e.WorkflowID != w.ID || e.WorkflowRunID != run.ID {
						t.Fatalf("step %d: %+v", i, e)
					}
				}
			})
		}
		for name, steps := range map[string][]automation.Step{
			"no steps":          nil,
			"unknown script":    {{ScriptID: "nope"}},
			"bad onFailure":     {{ScriptID: "ok", OnFailure: "retry"}},
			"unknown parameter": {{ScriptID: "ok", Parameters: map[string]string{"X": "1"}}},
		} {
			if _, err := svc.CreateWorkflow(ctx, master, src, automation.NewWorkflow{Name: name, Steps: steps}); !fault.Is(err, fault.Invalid) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		for _, bad := range []string{"  ", "!!!", "a\x00b"} {
			if _, err := svc.CreateWorkflow(ctx, master, src, automation.NewWorkflow{Name: bad, Steps: []automation.Step{{ScriptID: "ok"}}}); !fault.Is(err, fault.Invalid) {
				t.Fatalf("workflow name %q: %v", bad, err)
			}
		}
	})
}

// executions waits until n executions of script exist and are finished.
func executions(t *testing.T, svc *automation.Service, script string, n int) []*automation.Execution {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		es, err := svc.ListExecutions(context.Background(), master, automation.ExecutionFilter{ScriptID: script, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, e := range es {
			if e.EndedAt != nil {
				done++
			}
		}
		if done >= n && len(es) == n {
			return es
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d executions of %s (%d finished), want %d", len(es), script, done, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A schedule fires at each due time once, across replicas; after downtime
// the latest missed time fires once and the schedule continues in the
// future; its time zone counts.
func TestSchedules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := scriptsDir(t)
		a, b := newService(t, db, dir), newService(t, db, dir) // two replicas
		c := &clock{}
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		c.ns.Store(t0.UnixNano())
		a.SetClock(c.Now)
		b.SetClock(c.Now)
		register(t, a, "ok")
		s, err := a.CreateSchedule(ctx, master, src, automation.NewSchedule{ScriptID: "ok", CronExpression: "*/5 * * * *"})
		if err != nil {
			t.Fatal(err)
		}
		if !s.NextRunAt.Equal(t0.Add(5 * time.Minute)) {
			t.Fatalf("next run %v, want %v", s.NextRunAt, t0.Add(5*time.Minute))
		}
		if fired := a.Tick(ctx, t0.Add(4*time.Minute)); len(fired) != 0 {
			t.Fatalf("fired early: %v", fired)
		}
		// Both replicas tick at the due time, at once: one run.
		due := t0.Add(5 * time.Minute)
		var wg sync.WaitGroup
		var total atomic.Int32
		for _, svc := range []*automation.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				total.Add(int32(len(svc.Tick(ctx, due))))
			}()
		}
		wg.Wait()
		if total.Load() != 1 {
			t.Fatalf("the due time fired %d times across two replicas, want 1", total.Load())
		}
		executions(t, a, "ok", 1)
		if fired := b.Tick(ctx, due.Add(time.Second)); len(fired) != 0 {
			t.Fatalf("fired twice for one due time: %v", fired)
		}
		// Down for an hour: one catch-up run, then the next future time.
		late := due.Add(time.Hour + 2*time.Minute)
		if fired := a.Tick(ctx, late); len(fired) != 1 {
			t.Fatalf("after downtime fired %v, want one catch-up", fired)
		}
		executions(t, a, "ok", 2)
		got, err := a.GetSchedule(ctx, master, s.ID)
		if err != nil || !got.NextRunAt.Equal(time.Date(2026, 12, 7, 11, 10, 0, 0, time.UTC)) || !got.LastRunAt.Equal(time.Date(2026, 12, 7, 11, 5, 0, 0, time.UTC)) {
			t.Fatalf("after catch-up: next %v last %v %v", got.NextRunAt, got.LastRunAt, err)
		}

		// A time zone: 02:00 in Berlin is 01:00 UTC in December.
		tz, err := a.CreateSchedule(ctx, master, src, automation.NewSchedule{ScriptID: "ok", CronExpression: "CRON_TZ=Europe/Berlin 0 2 * * *"})
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC); !tz.NextRunAt.Equal(want) {
			t.Fatalf("zoned next run %v, want %v", tz.NextRunAt, want)
		}
		for name, in := range map[string]automation.NewSchedule{
			"bad cron":      {ScriptID: "ok", CronExpression: "every day"},
			"no target":     {CronExpression: "@daily"},
			"two targets":   {ScriptID: "ok", WorkflowID: "x", CronExpression: "@daily"},
			"bad parameter": {ScriptID: "ok", CronExpression: "@daily", Parameters: map[string]string{"X": "1"}},
		} {
			if _, err := a.CreateSchedule(ctx, master, src, in); !fault.Is(err, fault.Invalid) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if _, err := a.CreateSchedule(ctx, master, src, automation.NewSchedule{ScriptID: "gone", CronExpression: "@daily"}); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown script: %v", err)
		}
		// Deleting the script removes its schedules.
		if err := a.Delete(ctx, master, src, "ok"); err != nil {
			t.Fatal(err)
		}
		if ss, _ := a.ListSchedules(ctx, master); len(ss) != 0 {
			t.Fatalf("schedules of a deleted script remain: %d", len(ss))
		}
	})
}
