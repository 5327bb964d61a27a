package automation

import (
	"context"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Workflow is an ordered list of script steps.
type Workflow struct {
	ID          string
	Name        string
	Description string
	Steps       []Step
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Step is one script of a workflow, with its parameters, and what a
// failure of it does to the rest: stop (the default) or continue.
type Step struct {
	ScriptID   string            `json:"scriptId"`
	Parameters map[string]string `json:"parameters,omitempty"`
	OnFailure  string            `json:"onFailure"`
}

// NewWorkflow is what a caller creates.
type NewWorkflow struct {
	Name        string
	Description string
	Steps       []Step
}

// WorkflowRun is one run of a workflow: the executions of the steps that
// ran, in order.
type WorkflowRun struct {
	ID         string
	WorkflowID string
	Status     Status // completed when every step completed, else failed
	Executions []*Execution
}

// ReasonWorkflowNotFound is the reason of an unknown workflow.
const ReasonWorkflowNotFound fault.Reason = "workflow_not_found"

const maxSteps = 32

func workflowNotFound(id string) error {
	return fault.New(fault.NotFound, "workflow not found").WithReason(ReasonWorkflowNotFound).WithDetails(map[string]any{"workflow_id": id})
}

// CreateWorkflow stores a workflow whose steps name registered scripts
// with valid parameters. Errors: invalid, conflict (name), forbidden.
func (s *Service) CreateWorkflow(ctx context.Context, p *authz.Principal, src audit.Source, in NewWorkflow) (*Workflow, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	n, err := checkName(in.Name)
	if err != nil {
		return nil, err
	}
	if len(in.Steps) == 0 || len(in.Steps) > maxSteps {
		return nil, invalid("steps", "a workflow has 1 to 32 steps")
	}
	w := &Workflow{ID: slug(n), Name: n, Description: strings.TrimSpace(in.Description), CreatedBy: p.Actor()}
	for i, st := range in.Steps {
		sc, err := s.script(ctx, s.store.Read(), st.ScriptID)
		if err != nil {
			return nil, invalid("steps", "step "+strconv.Itoa(i+1)+" names no registered script")
		}
		if _, err := params(sc, st.Parameters); err != nil {
			return nil, err
		}
		switch st.OnFailure {
		case "":
			st.OnFailure = "stop"
		case "stop", "continue":
		default:
			return nil, invalid("steps", "onFailure is stop or continue")
		}
		w.Steps = append(w.Steps, st)
	}
	w.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	w.UpdatedAt = w.CreatedAt
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateWorkflow(ctx, w); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "workflow.create", "workflow:"+w.ID, map[string]any{"name": w.Name, "steps": len(w.Steps)})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// GetWorkflow returns one workflow.
func (s *Service) GetWorkflow(ctx context.Context, p *authz.Principal, id string) (*Workflow, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.workflow(ctx, s.store.Read(), id)
}

func (s *Service) workflow(ctx context.Context, tx Tx, id string) (*Workflow, error) {
	w, err := tx.WorkflowByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, workflowNotFound(id)
	}
	return w, err
}

// ListWorkflows returns the workflows by name.
func (s *Service) ListWorkflows(ctx context.Context, p *authz.Principal) ([]*Workflow, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListWorkflows(ctx)
}

// DeleteWorkflow removes a workflow and the schedules that run it.
func (s *Service) DeleteWorkflow(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		w, err := s.workflow(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWorkflow(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "workflow.delete", "workflow:"+id, map[string]any{"name": w.Name})
	})
}

// RunWorkflow runs a workflow's steps one after another and returns the
// run. Errors: not_found, forbidden, unavailable.
func (s *Service) RunWorkflow(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*WorkflowRun, error) {
	if err := authz.AllowServer(p, actExecute); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	w, err := s.workflow(ctx, s.store.Read(), id)
	if err != nil {
		return nil, err
	}
	return s.runWorkflow(ctx, src, w, p.Actor()), nil
}

// runWorkflow runs w's steps in order: a step that fails (or whose script
// is gone) ends the run unless it says continue.
func (s *Service) runWorkflow(ctx context.Context, src audit.Source, w *Workflow, by string) *WorkflowRun {
	run := &WorkflowRun{ID: "wfrun_" + newExecutionID()[5:], WorkflowID: w.ID, Status: Completed}
	for _, st := range w.Steps {
		ok := s.runStep(ctx, src, w, run, st, by)
		if !ok {
			run.Status = Failed
			if st.OnFailure != "continue" {
				break
			}
		}
	}
	return run
}

func (s *Service) runStep(ctx context.Context, src audit.Source, w *Workflow, run *WorkflowRun, st Step, by string) bool {
	sc, err := s.script(ctx, s.store.Read(), st.ScriptID)
	if err != nil {
		s.log.Warn("workflow step names a script that is gone", "workflow", w.ID, "script", st.ScriptID)
		return false
	}
	ps, abs, err := s.prepare(sc, st.Parameters)
	if err != nil {
		s.log.Warn("workflow step cannot run", "workflow", w.ID, "script", sc.ID, "error", err)
		return false
	}
	e, err := s.record(ctx, src, sc, ps, runOpts{triggeredBy: by, workflowID: w.ID, workflowRunID: run.ID})
	if err != nil {
		s.log.Error("recording a workflow step", "workflow", w.ID, "error", err)
		return false
	}
	run.Executions = append(run.Executions, e)
	if err := s.acquire(ctx); err != nil {
		e.Status, e.ErrorMessage = Cancelled, "the run ended before a run slot was free"
		s.finish(context.WithoutCancel(ctx), e)
		return false
	}
	defer func() { <-s.slots }()
	s.runOne(ctx, sc, abs, ps, e)
	return e.Status == Completed
}
