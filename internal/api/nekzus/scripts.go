package nekzus

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/automation"
	"netkeep/internal/fault"
)

// Scripts is what the script handlers need of the automation domain.
type Scripts interface {
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in automation.NewScript) (*automation.Script, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*automation.Script, error)
	List(ctx context.Context, p *authz.Principal, category string) ([]*automation.Script, error)
	Update(ctx context.Context, p *authz.Principal, src audit.Source, id string, in automation.NewScript) (*automation.Script, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
	Available(ctx context.Context, p *authz.Principal) ([]automation.Available, error)
	Execute(ctx context.Context, p *authz.Principal, src audit.Source, id string, params map[string]string, dryRun, async bool) (*automation.Execution, error)
	GetExecution(ctx context.Context, p *authz.Principal, id string) (*automation.Execution, error)
	ListExecutions(ctx context.Context, p *authz.Principal, f automation.ExecutionFilter) ([]*automation.Execution, error)
}

// scriptJSON is a script as the API shows it.
type scriptJSON struct {
	ID             string                 `json:"id"`
	Name           string                 `json:"name"`
	Description    string                 `json:"description"`
	Category       string                 `json:"category"`
	ScriptPath     string                 `json:"scriptPath"`
	ScriptType     string                 `json:"scriptType"`
	TimeoutSeconds int                    `json:"timeoutSeconds"`
	Parameters     []automation.Parameter `json:"parameters"`
	CreatedBy      string                 `json:"createdBy"`
	CreatedAt      time.Time              `json:"createdAt"`
	UpdatedAt      time.Time              `json:"updatedAt"`
}

func viewScript(s *automation.Script) scriptJSON {
	ps := s.Parameters
	if ps == nil {
		ps = []automation.Parameter{}
	}
	return scriptJSON{ID: s.ID, Name: s.Name, Description: s.Description, Category: s.Category, ScriptPath: s.ScriptPath,
		ScriptType: s.ScriptType, TimeoutSeconds: s.TimeoutSeconds, Parameters: ps, CreatedBy: s.CreatedBy,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

type scriptListJSON struct {
	Scripts []scriptJSON `json:"scripts"`
	Count   int          `json:"count"`
}

type availableJSON struct {
	Path       string    `json:"path"`
	Name       string    `json:"name"`
	ScriptType string    `json:"scriptType"`
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"modTime"`
}

type availableListJSON struct {
	Available []availableJSON `json:"available"`
	Count     int             `json:"count"`
}

// executionJSON is an execution as documented.
type executionJSON struct {
	ID           string            `json:"id"`
	ScriptID     string            `json:"scriptId"`
	WorkflowID   string            `json:"workflowId,omitempty"`
	WorkflowExID string            `json:"workflowExId,omitempty"`
	Status       automation.Status `json:"status"`
	IsDryRun     bool              `json:"isDryRun"`
	TriggeredBy  string            `json:"triggeredBy"`
	Parameters   map[string]string `json:"parameters"`
	ExitCode     *int              `json:"exitCode"`
	Output       string            `json:"output"`
	Truncated    bool              `json:"truncated"`
	ErrorMessage string            `json:"errorMessage,omitempty"`
	CreatedAt    time.Time         `json:"createdAt"`
	StartedAt    *time.Time        `json:"startedAt"`
	EndedAt      *time.Time        `json:"endedAt"`
}

func viewExecution(e *automation.Execution) executionJSON {
	ps := e.Parameters
	if ps == nil {
		ps = map[string]string{}
	}
	return executionJSON{ID: e.ID, ScriptID: e.ScriptID, WorkflowID: e.WorkflowID, WorkflowExID: e.WorkflowRunID, Status: e.Status, IsDryRun: e.IsDryRun, TriggeredBy: e.TriggeredBy,
		Parameters: ps, ExitCode: e.ExitCode, Output: e.Output, Truncated: e.Truncated, ErrorMessage: e.ErrorMessage,
		CreatedAt: e.CreatedAt, StartedAt: e.StartedAt, EndedAt: e.EndedAt}
}

type executionListJSON struct {
	Executions []executionJSON `json:"executions"`
	Count      int             `json:"count"`
}

// asyncJSON answers an asynchronous run (?async=true) with 202.
type asyncJSON struct {
	ExecutionID string            `json:"executionId"`
	ScriptID    string            `json:"scriptId"`
	Status      automation.Status `json:"status"`
	Async       bool              `json:"async"`
	PollURL     string            `json:"pollUrl"`
}

// scriptBody is POST and PUT /api/v1/scripts's body.
type scriptBody struct {
	Name           *string                 `json:"name"`
	Description    *string                 `json:"description"`
	Category       *string                 `json:"category"`
	ScriptPath     *string                 `json:"scriptPath"`
	TimeoutSeconds *int                    `json:"timeoutSeconds"`
	Parameters     *[]automation.Parameter `json:"parameters"`
}

func (b scriptBody) domain() automation.NewScript {
	return automation.NewScript{Name: b.Name, Description: b.Description, Category: b.Category, ScriptPath: b.ScriptPath,
		TimeoutSeconds: b.TimeoutSeconds, Parameters: b.Parameters}
}

func (h *Handlers) listScripts(w http.ResponseWriter, r *http.Request) {
	ss, err := h.Scripts.List(r.Context(), api.PrincipalFrom(r.Context()), r.URL.Query().Get("category"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := scriptListJSON{Scripts: make([]scriptJSON, 0, len(ss)), Count: len(ss)}
	for _, s := range ss {
		out.Scripts = append(out.Scripts, viewScript(s))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) availableScripts(w http.ResponseWriter, r *http.Request) {
	as, err := h.Scripts.Available(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := availableListJSON{Available: make([]availableJSON, 0, len(as)), Count: len(as)}
	for _, a := range as {
		out.Available = append(out.Available, availableJSON(a))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) createScript(w http.ResponseWriter, r *http.Request) {
	var in scriptBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	s, err := h.Scripts.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.domain())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, viewScript(s))
}

func (h *Handlers) getScript(w http.ResponseWriter, r *http.Request) {
	s, err := h.Scripts.Get(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, viewScript(s))
}

func (h *Handlers) updateScript(w http.ResponseWriter, r *http.Request) {
	var in scriptBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	s, err := h.Scripts.Update(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.domain())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, viewScript(s))
}

func (h *Handlers) deleteScript(w http.ResponseWriter, r *http.Request) {
	if err := h.Scripts.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// execute runs a script: synchronously (200, the finished execution), or
// with ?async=true in the background (202, where to poll).
func (h *Handlers) execute(dryRun bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Parameters map[string]string `json:"parameters"`
			DryRun     bool              `json:"dryRun"`
		}
		if r.ContentLength != 0 {
			if err := api.Decode(r, &in); err != nil {
				api.Error(w, r, err)
				return
			}
		}
		async := r.URL.Query().Get("async") == "true"
		e, err := h.Scripts.Execute(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.Parameters, dryRun || in.DryRun, async)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		if async {
			api.WriteJSON(w, http.StatusAccepted, asyncJSON{ExecutionID: e.ID, ScriptID: e.ScriptID, Status: e.Status, Async: true,
				PollURL: "/api/v1/executions/" + e.ID})
			return
		}
		api.WriteJSON(w, http.StatusOK, viewExecution(e))
	}
}

func (h *Handlers) listExecutions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := automation.ExecutionFilter{ScriptID: q.Get("scriptId"), Status: automation.Status(q.Get("status"))}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				api.Error(w, r, fault.New(fault.Invalid, name+" must be a number").WithDetails(map[string]any{"field": name}))
				return
			}
			*dst = n
		}
	}
	es, err := h.Scripts.ListExecutions(r.Context(), api.PrincipalFrom(r.Context()), f)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := executionListJSON{Executions: make([]executionJSON, 0, len(es)), Count: len(es)}
	for _, e := range es {
		out.Executions = append(out.Executions, viewExecution(e))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) getExecution(w http.ResponseWriter, r *http.Request) {
	e, err := h.Scripts.GetExecution(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, viewExecution(e))
}
