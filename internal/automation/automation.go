// Package automation keeps the scripts an administrator registers from the
// scripts directory and runs them: each run is an execution, recorded with
// its parameters (password parameters masked), exit code and captured
// output. A script runs as a child process of netkeep on this host, with
// its parameters as environment variables (never through a shell string),
// within its timeout and a limit on concurrent runs. Scripts act on the
// host, not on one group's data, so only a SUPER_ADMIN may manage or run
// them.
package automation

import (
	"context"
	"log/slog"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Script is a registered script.
type Script struct {
	ID             string
	Name           string
	Description    string
	Category       string
	ScriptPath     string // relative to the scripts directory
	ScriptType     string // shell, python or binary (from the file)
	TimeoutSeconds int
	Parameters     []Parameter
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Parameter is a value a run may set: an environment variable of the run.
type Parameter struct {
	Name        string   `json:"name"`
	Label       string   `json:"label,omitempty"`
	Description string   `json:"description,omitempty"`
	Type        string   `json:"type"` // string, text, number, boolean, select, password
	Required    bool     `json:"required"`
	Default     string   `json:"default,omitempty"`
	Options     []string `json:"options,omitempty"` // select only
}

// Status is where an execution is.
type Status string

// The statuses.
const (
	Pending   Status = "pending"
	Running   Status = "running"
	Completed Status = "completed"
	Failed    Status = "failed"
	TimedOut  Status = "timeout"
	Cancelled Status = "cancelled"
)

// Execution is one run of a script.
type Execution struct {
	ID            string
	ScriptID      string
	WorkflowID    string // set when a workflow's step
	WorkflowRunID string // the workflow run it belongs to
	Status        Status
	IsDryRun      bool
	TriggeredBy   string
	Parameters    map[string]string // password parameters masked
	ExitCode      *int
	Output        string
	Truncated     bool
	ErrorMessage  string
	CreatedAt     time.Time
	StartedAt     *time.Time
	EndedAt       *time.Time
}

// ExecutionFilter selects executions, newest first.
type ExecutionFilter struct {
	ScriptID string
	Status   Status
	Limit    int
	Offset   int
}

// Store is automation's persistence, bound with store.For[automation.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over scripts and executions. Lookups return a
// not_found fault for a missing row; a script name used twice is a
// conflict.
type Tx interface {
	audit.Writer
	CreateScript(ctx context.Context, s *Script) error
	ScriptByID(ctx context.Context, id string) (*Script, error)
	ListScripts(ctx context.Context, category string) ([]*Script, error)
	UpdateScript(ctx context.Context, s *Script) error
	DeleteScript(ctx context.Context, id string) error
	CreateExecution(ctx context.Context, e *Execution) error
	UpdateExecution(ctx context.Context, e *Execution) error
	ExecutionByID(ctx context.Context, id string) (*Execution, error)
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]*Execution, error)

	CreateWorkflow(ctx context.Context, w *Workflow) error
	WorkflowByID(ctx context.Context, id string) (*Workflow, error)
	ListWorkflows(ctx context.Context) ([]*Workflow, error)
	// DeleteWorkflow removes the workflow and its schedules.
	DeleteWorkflow(ctx context.Context, id string) error

	CreateSchedule(ctx context.Context, s *Schedule) error
	ScheduleByID(ctx context.Context, id string) (*Schedule, error)
	ListSchedules(ctx context.Context) ([]*Schedule, error)
	DeleteSchedule(ctx context.Context, id string) error
	// DueSchedules returns the enabled schedules whose next run is at or
	// before now.
	DueSchedules(ctx context.Context, now time.Time) ([]*Schedule, error)
	// ClaimScheduleRun records that this replica runs schedule id's run due
	// at due, and moves the schedule on (last run due, next run next). It
	// reports false, changing nothing, when the run was claimed already.
	ClaimScheduleRun(ctx context.Context, id string, due, next time.Time) (bool, error)
}

// RunRequest is a child process to run (the host runner's request).
type RunRequest struct {
	Path      string
	Dir       string
	Env       []string
	Timeout   time.Duration
	MaxOutput int
	// Output receives the output as it is produced, for streaming; nil:
	// none.
	Output func([]byte)
}

// RunResult is how the child ended.
type RunResult struct {
	ExitCode  int
	Output    []byte
	Truncated bool
	TimedOut  bool
}

// Runner runs child processes (internal/procrun behind an adapter).
type Runner interface {
	Run(ctx context.Context, r RunRequest) (*RunResult, error)
}

// Config is where scripts live and how they run.
type Config struct {
	Dir            string // the scripts directory; empty: scripts are off
	MaxConcurrent  int    // runs at once (default 3)
	MaxOutput      int    // bytes of output kept per run (default 1 MiB)
	DefaultTimeout time.Duration
}

// Service manages scripts and runs them.
type Service struct {
	store Store
	run   Runner
	cfg   Config
	slots chan struct{}
	now   func() time.Time
	log   *slog.Logger
	bg    context.Context // asynchronous runs live as long as this
	// bus streams running executions' output (TopicExecution); nil: not
	// streamed.
	bus event.Bus
}

// Option configures a Service.
type Option func(*Service)

// WithBus streams running executions' output and their ends on bus.
func WithBus(bus event.Bus) Option { return func(s *Service) { s.bus = bus } }

// NewService returns the service; asynchronous runs end when bg ends.
func NewService(bg context.Context, st Store, run Runner, cfg Config, log *slog.Logger, opts ...Option) *Service {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 3
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = 1 << 20
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = 5 * time.Minute
	}
	s := &Service{store: st, run: run, cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent), now: time.Now, log: log, bg: bg}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SetClock replaces time.Now (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// The authz actions.
const (
	actRead    authz.Action = "scripts:read"
	actWrite   authz.Action = "scripts:write"
	actExecute authz.Action = "scripts:execute"
)

// Reasons.
const (
	ReasonScriptNotFound    fault.Reason = "script_not_found"
	ReasonExecutionNotFound fault.Reason = "execution_not_found"
	ReasonDisabled          fault.Reason = "scripts_disabled"
)

var errDisabled = fault.New(fault.Unavailable, "scripts are off: start netkeep with --scripts-dir").WithReason(ReasonDisabled)

func scriptNotFound(id string) error {
	return fault.New(fault.NotFound, "script not found").WithReason(ReasonScriptNotFound).WithDetails(map[string]any{"script_id": id})
}

func invalid(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}
