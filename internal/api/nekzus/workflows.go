package nekzus

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/automation"
)

// Workflows is what the workflow and schedule handlers need of the
// automation domain.
type Workflows interface {
	CreateWorkflow(ctx context.Context, p *authz.Principal, src audit.Source, in automation.NewWorkflow) (*automation.Workflow, error)
	GetWorkflow(ctx context.Context, p *authz.Principal, id string) (*automation.Workflow, error)
	ListWorkflows(ctx context.Context, p *authz.Principal) ([]*automation.Workflow, error)
	DeleteWorkflow(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
	RunWorkflow(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*automation.WorkflowRun, error)
	CreateSchedule(ctx context.Context, p *authz.Principal, src audit.Source, in automation.NewSchedule) (*automation.Schedule, error)
	GetSchedule(ctx context.Context, p *authz.Principal, id string) (*automation.Schedule, error)
	ListSchedules(ctx context.Context, p *authz.Principal) ([]*automation.Schedule, error)
	DeleteSchedule(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
}

type workflowJSON struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Steps       []automation.Step `json:"steps"`
	CreatedBy   string            `json:"createdBy"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

func viewWorkflow(w *automation.Workflow) workflowJSON {
	return workflowJSON{ID: w.ID, Name: w.Name, Description: w.Description, Steps: w.Steps, CreatedBy: w.CreatedBy,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type workflowListJSON struct {
	Workflows []workflowJSON `json:"workflows"`
	Count     int            `json:"count"`
}

// workflowRunJSON is POST /api/v1/workflows/{id}/execute (netkeep's).
type workflowRunJSON struct {
	ID         string            `json:"id"`
	WorkflowID string            `json:"workflowId"`
	Status     automation.Status `json:"status"`
	Executions []executionJSON   `json:"executions"`
}

type scheduleJSON struct {
	ID             string            `json:"id"`
	ScriptID       string            `json:"scriptId,omitempty"`
	WorkflowID     string            `json:"workflowId,omitempty"`
	CronExpression string            `json:"cronExpression"`
	Parameters     map[string]string `json:"parameters"`
	Enabled        bool              `json:"enabled"`
	LastRunAt      *time.Time        `json:"lastRunAt"`
	NextRunAt      *time.Time        `json:"nextRunAt"`
	CreatedBy      string            `json:"createdBy"`
	CreatedAt      time.Time         `json:"createdAt"`
}

func viewSchedule(s *automation.Schedule) scheduleJSON {
	return scheduleJSON{ID: s.ID, ScriptID: s.ScriptID, WorkflowID: s.WorkflowID, CronExpression: s.CronExpression,
		Parameters: s.Parameters, Enabled: s.Enabled, LastRunAt: s.LastRunAt, NextRunAt: s.NextRunAt, CreatedBy: s.CreatedBy,
		CreatedAt: s.CreatedAt}
}

type scheduleListJSON struct {
	Schedules []scheduleJSON `json:"schedules"`
	Count     int            `json:"count"`
}

func (h *Handlers) listWorkflows(w http.ResponseWriter, r *http.Request) {
	ws, err := h.Workflows.ListWorkflows(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := workflowListJSON{Workflows: make([]workflowJSON, 0, len(ws)), Count: len(ws)}
	for _, wf := range ws {
		out.Workflows = append(out.Workflows, viewWorkflow(wf))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) createWorkflow(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Steps       []automation.Step `json:"steps"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	wf, err := h.Workflows.CreateWorkflow(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		automation.NewWorkflow{Name: in.Name, Description: in.Description, Steps: in.Steps})
	api.Respond(w, r, http.StatusCreated, wf, err, viewWorkflow)
}

func (h *Handlers) getWorkflow(w http.ResponseWriter, r *http.Request) {
	wf, err := h.Workflows.GetWorkflow(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	api.Respond(w, r, http.StatusOK, wf, err, viewWorkflow)
}

func (h *Handlers) deleteWorkflow(w http.ResponseWriter, r *http.Request) {
	api.RespondEmpty(w, r, h.Workflows.DeleteWorkflow(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")))
}

func (h *Handlers) runWorkflow(w http.ResponseWriter, r *http.Request) {
	run, err := h.Workflows.RunWorkflow(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := workflowRunJSON{ID: run.ID, WorkflowID: run.WorkflowID, Status: run.Status, Executions: make([]executionJSON, 0, len(run.Executions))}
	for _, e := range run.Executions {
		out.Executions = append(out.Executions, viewExecution(e))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) listSchedules(w http.ResponseWriter, r *http.Request) {
	ss, err := h.Workflows.ListSchedules(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := scheduleListJSON{Schedules: make([]scheduleJSON, 0, len(ss)), Count: len(ss)}
	for _, s := range ss {
		out.Schedules = append(out.Schedules, viewSchedule(s))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) createSchedule(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ScriptID       string            `json:"scriptId"`
		WorkflowID     string            `json:"workflowId"`
		CronExpression string            `json:"cronExpression"`
		Parameters     map[string]string `json:"parameters"`
		Enabled        *bool             `json:"enabled"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	s, err := h.Workflows.CreateSchedule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), automation.NewSchedule{
		ScriptID: in.ScriptID, WorkflowID: in.WorkflowID, CronExpression: in.CronExpression, Parameters: in.Parameters, Enabled: in.Enabled})
	api.Respond(w, r, http.StatusCreated, s, err, viewSchedule)
}

func (h *Handlers) getSchedule(w http.ResponseWriter, r *http.Request) {
	s, err := h.Workflows.GetSchedule(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	api.Respond(w, r, http.StatusOK, s, err, viewSchedule)
}

func (h *Handlers) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	api.RespondEmpty(w, r, h.Workflows.DeleteSchedule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")))
}
