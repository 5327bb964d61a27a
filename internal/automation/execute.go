package automation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// masked is how a password parameter is recorded.
const masked = "********"

// checkValue checks a parameter's value against its type.
func checkValue(p Parameter, v string) error {
	bad := func(msg string) error { return invalid("parameters", "parameter "+p.Name+" "+msg) }
	switch p.Type {
	case "number":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return bad("must be a number")
		}
	case "boolean":
		if v != "true" && v != "false" {
			return bad("must be true or false")
		}
	case "select":
		if !slices.Contains(p.Options, v) {
			return bad("must be one of its options")
		}
	}
	if len(v) > 4096 {
		return bad("is longer than 4096 bytes")
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return bad("must not hold a NUL byte")
		}
	}
	return nil
}

// params checks given against sc's parameters and fills in defaults.
// Unknown names are refused: they would reach the script's environment.
func params(sc *Script, given map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k := range given {
		if !slices.ContainsFunc(sc.Parameters, func(p Parameter) bool { return p.Name == k }) {
			return nil, invalid("parameters", "the script has no parameter "+k)
		}
	}
	for _, p := range sc.Parameters {
		v, ok := given[p.Name]
		if !ok {
			v = p.Default
		}
		if v == "" && p.Required {
			return nil, invalid("parameters", "parameter "+p.Name+" is required")
		}
		if v == "" {
			continue
		}
		if err := checkValue(p, v); err != nil {
			return nil, err
		}
		out[p.Name] = v
	}
	return out, nil
}

// recorded is params as an execution keeps them: password values masked.
func recorded(sc *Script, ps map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range ps {
		out[k] = v
		for _, p := range sc.Parameters {
			if p.Name == k && p.Type == "password" {
				out[k] = masked
			}
		}
	}
	return out
}

func newExecutionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "exec_" + hex.EncodeToString(b[:])
}

// runOpts are how a run came about.
type runOpts struct {
	dryRun        bool
	triggeredBy   string
	workflowID    string
	workflowRunID string
}

// prepare checks given against sc and finds sc's file: the parameters to
// run with and the program's path.
func (s *Service) prepare(sc *Script, given map[string]string) (map[string]string, string, error) {
	ps, err := params(sc, given)
	if err != nil {
		return nil, "", err
	}
	_, abs, err := s.resolve(sc.ScriptPath) // the file may have changed since it was registered
	if err != nil {
		return nil, "", fault.New(fault.Invalid, "the script's file is gone or no longer runnable").
			WithDetails(map[string]any{"script_id": sc.ID}).Wrap(err)
	}
	return ps, abs, nil
}

// record writes a pending execution of sc and its audit entry.
func (s *Service) record(ctx context.Context, src audit.Source, sc *Script, ps map[string]string, o runOpts) (*Execution, error) {
	e := &Execution{ID: newExecutionID(), ScriptID: sc.ID, Status: Pending, IsDryRun: o.dryRun, TriggeredBy: o.triggeredBy,
		WorkflowID: o.workflowID, WorkflowRunID: o.workflowRunID,
		Parameters: recorded(sc, ps), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateExecution(ctx, e); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "script.execute", "script:"+sc.ID,
			map[string]any{"execution": e.ID, "dry_run": o.dryRun, "parameters": e.Parameters, "triggered_by": o.triggeredBy})
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Execute runs script id with given parameters. A dry run differs only in
// DRY_RUN=true in the script's environment. Synchronous runs return the
// finished execution; asynchronous ones return it pending and finish in
// the background. Errors: not_found, invalid (parameters), forbidden,
// unavailable (scripts off), rate_limited (every run slot busy, async).
func (s *Service) Execute(ctx context.Context, p *authz.Principal, src audit.Source, id string, given map[string]string, dryRun, async bool) (*Execution, error) {
	if err := authz.AllowServer(p, actExecute); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	sc, err := s.script(ctx, s.store.Read(), id)
	if err != nil {
		return nil, err
	}
	ps, abs, err := s.prepare(sc, given)
	if err != nil {
		return nil, err
	}
	e, err := s.record(ctx, src, sc, ps, runOpts{dryRun: dryRun, triggeredBy: p.Actor()})
	if err != nil {
		return nil, err
	}
	if async {
		select {
		case s.slots <- struct{}{}:
		default:
			e.Status, e.ErrorMessage = Failed, "every run slot is busy"
			s.finish(context.WithoutCancel(ctx), e)
			return nil, fault.New(fault.RateLimited, "every script run slot is busy; try again shortly").WithDetails(map[string]any{"retry_after": 5})
		}
		out := *e
		go func() {
			defer func() { <-s.slots }()
			s.runOne(s.bg, sc, abs, ps, e)
		}()
		return &out, nil
	}
	if err := s.acquire(ctx); err != nil {
		e.Status, e.ErrorMessage = Cancelled, "the request ended before a run slot was free"
		s.finish(context.WithoutCancel(ctx), e)
		return nil, err
	}
	defer func() { <-s.slots }()
	s.runOne(ctx, sc, abs, ps, e)
	return e, nil
}

// acquire waits for a run slot or ctx.
func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runOne runs the script and records how it ended.
func (s *Service) runOne(ctx context.Context, sc *Script, abs string, ps map[string]string, e *Execution) {
	started := s.now().UTC().Truncate(time.Microsecond)
	e.Status, e.StartedAt = Running, &started
	s.finish(context.WithoutCancel(ctx), e)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range ps {
		env = append(env, k+"="+v)
	}
	if e.IsDryRun {
		env = append(env, "DRY_RUN=true")
	}
	stream := s.newStream(e)
	res, err := s.run.Run(ctx, RunRequest{Path: abs, Dir: filepath.Dir(abs), Env: env,
		Timeout: time.Duration(sc.TimeoutSeconds) * time.Second, MaxOutput: s.cfg.MaxOutput, Output: stream.output})
	ended := s.now().UTC().Truncate(time.Microsecond)
	e.EndedAt = &ended
	switch {
	case err != nil:
		e.Status, e.ErrorMessage = Failed, "the script could not be started"
		s.log.Warn("script not started", "script", sc.ID, "execution", e.ID, "error", err)
	case res.TimedOut:
		e.Status, e.ErrorMessage = TimedOut, "the script ran past its timeout and was killed"
	case ctx.Err() != nil:
		e.Status, e.ErrorMessage = Cancelled, "the run was cancelled"
	case res.ExitCode != 0:
		e.Status = Failed
	default:
		e.Status = Completed
	}
	if err == nil {
		code := res.ExitCode
		e.ExitCode, e.Output, e.Truncated = &code, string(res.Output), res.Truncated
	}
	s.finish(context.WithoutCancel(ctx), e)
	stream.ended(e)
}

// finish writes e's state; a failure is logged (the run already happened).
func (s *Service) finish(ctx context.Context, e *Execution) {
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.UpdateExecution(ctx, e) }); err != nil {
		s.log.Error("recording a script execution", "execution", e.ID, "error", err)
	}
}

// GetExecution returns one execution; an unknown id is not_found.
func (s *Service) GetExecution(ctx context.Context, p *authz.Principal, id string) (*Execution, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	e, err := s.store.Read().ExecutionByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.NotFound, "execution not found").WithReason(ReasonExecutionNotFound).WithDetails(map[string]any{"execution_id": id})
	}
	return e, err
}

// ListExecutions returns executions, newest first (limit 1..100, default 50).
func (s *Service) ListExecutions(ctx context.Context, p *authz.Principal, f ExecutionFilter) ([]*Execution, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 100 {
		return nil, invalid("limit", "limit must be 1 to 100")
	}
	if f.Offset < 0 {
		return nil, invalid("offset", "offset must not be negative")
	}
	if f.Status != "" && !slices.Contains([]Status{Pending, Running, Completed, Failed, TimedOut, Cancelled}, f.Status) {
		return nil, invalid("status", "status must be pending, running, completed, failed, timeout or cancelled")
	}
	return s.store.Read().ListExecutions(ctx, f)
}
