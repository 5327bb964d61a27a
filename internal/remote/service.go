package remote

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// Store is remote's view of persistence: it only audits.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction; remote only writes audit entries.
type Tx interface {
	audit.Writer
}

// Gateways finds the gateways a location or a session names, within what
// the caller administers; *gateway.Service implements it.
type Gateways interface {
	// Errors: not_found (also another group's), forbidden.
	AdminGateway(ctx context.Context, p *authz.Principal, id string) (*gateway.Gateway, error)
	AdminHub(ctx context.Context, p *authz.Principal, id string) (*gateway.Hub, error)
}

// Runner runs programs on this host (internal/procrun behind an adapter).
type Runner interface {
	// Find returns the path of an installed program, or an error.
	Find(program string) (string, error)
	// Run runs one program in a process group of its own, killed as a
	// whole when the timeout passes, and returns how it ended; a program
	// that exits non-zero is a ProgramResult, not an error.
	Run(ctx context.Context, r ProgramRun) (*ProgramResult, error)
}

// ProgramRun is one program to run on this host.
type ProgramRun struct {
	Path      string
	Args      []string // each one word, never read by a shell
	Env       []string // the whole environment
	Timeout   time.Duration
	MaxOutput int // bytes of stdout and stderr kept
}

// ProgramResult is how a program ended.
type ProgramResult struct {
	ExitCode  int
	Output    []byte
	Truncated bool
	TimedOut  bool
	Duration  time.Duration
}

// AgentRun is how a command ended on a gateway, as its agent reported it.
type AgentRun struct {
	Output    []byte // stdout and stderr as they came, up to the cap asked for
	Truncated bool
	ExitCode  int
}

// Agents runs shell commands on gateways through their agents' channels;
// the transport holding the channels implements it.
type Agents interface {
	// Exec runs command on gatewayID's host through its agent and returns
	// its output (at most max bytes) and exit code once the agent reports
	// the end. Errors: unavailable (no agent of the gateway connected to
	// this server, or it left meanwhile), gateway_timeout (ctx ended
	// first; the run holds what came until then).
	Exec(ctx context.Context, gatewayID, command string, max int) (*AgentRun, error)
}

// Result statuses, as GateKey's clients show them.
const (
	StatusSuccess = "success"
	StatusError   = "error"
	StatusTimeout = "timeout"
)

// Result is a tool run's outcome.
type Result struct {
	Tool      string
	Target    string
	Location  Location
	Status    string
	Output    string
	Error     string // why the status is not success
	ExitCode  int
	Truncated bool // output beyond the cap was dropped
	StartedAt time.Time
	Duration  time.Duration
}

// Defaults of a Service.
const (
	DefaultMaxOutput = 64 << 10
	DefaultRuns      = 4
	// agentGrace is how much longer than the tool's own timeout a run on
	// a gateway waits for the agent's answer (the round trip, and
	// timeout(1)'s kill delay).
	agentGrace = 10 * time.Second
)

var errBusy = fault.New(fault.RateLimited, "too many network tool runs are in progress; try again shortly")

var errServerSuper = fault.New(fault.Forbidden,
	"tools run on the netkeep server only for a server-wide administrator (SUPER_ADMIN); run them on one of your group's gateways")

// RunsOnServer reports whether p may run tools on this server: only a
// server-wide administrator, since the server and the networks it reaches
// are shared by every group (a group administrator's tools run on its
// group's gateways).
func RunsOnServer(p *authz.Principal) bool { return p != nil && p.IsSuper() }

// Service runs tools and opens remote sessions for administrators.
type Service struct {
	store     Store
	gateways  Gateways
	agents    Agents
	run       Runner
	slots     chan struct{}
	maxOutput int
	env       []string
	now       func() time.Time
	log       *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithAgents lets tools run on gateways; without it only the server runs them.
func WithAgents(a Agents) Option { return func(s *Service) { s.agents = a } }

// WithRuns sets how many tool runs may be in progress at once (DefaultRuns).
func WithRuns(n int) Option { return func(s *Service) { s.slots = make(chan struct{}, max(n, 1)) } }

// WithMaxOutput sets how many bytes of a run's output are kept (DefaultMaxOutput).
func WithMaxOutput(n int) Option { return func(s *Service) { s.maxOutput = n } }

// WithLogger sets where outcomes are logged.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the service; run runs the tools on this server.
func NewService(st Store, gws Gateways, run Runner, opts ...Option) *Service {
	s := &Service{store: st, gateways: gws, run: run, slots: make(chan struct{}, DefaultRuns),
		maxOutput: DefaultMaxOutput, now: time.Now, log: slog.New(slog.DiscardHandler),
		// Programs get a fixed, minimal environment: nothing of the
		// server's (which may hold secrets) leaks into them.
		env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tools lists the tools for an administrator. Errors: unauthorized, forbidden.
func (s *Service) Tools(p *authz.Principal) ([]Tool, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return Tools(), nil
}

// Installed reports whether this server has a program for the tool.
func (s *Service) Installed(t Tool) bool {
	return slices.ContainsFunc(t.programs, func(prog string) bool {
		_, err := s.run.Find(prog)
		return err == nil
	})
}

// Run runs a tool where loc says: on this server, or on a gateway of p's
// group through its agent. The run is audited ("network-tool.run": tool,
// target, location) before it starts. A tool that ends badly is a Result
// (status error or timeout), not an error.
// Errors: unauthorized, forbidden (also a run on this server by anyone but
// a server-wide administrator: RunsOnServer), invalid, not_found (the location's
// gateway, hub or spoke, also another group's), rate_limited (too many
// runs in progress), unavailable (the tool is not installed there, the
// gateway's agent is not connected to this server).
func (s *Service) Run(ctx context.Context, p *authz.Principal, src audit.Source, loc Location, req Request) (*Result, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	if loc.Kind == KindServer && !RunsOnServer(p) {
		return nil, errServerSuper
	}
	cmd, err := req.Command()
	if err != nil {
		return nil, err
	}
	var gw *gateway.Gateway
	if loc.Kind != KindServer {
		if gw, err = s.locate(ctx, p, loc); err != nil {
			return nil, err
		}
		if s.agents == nil {
			return nil, fault.New(fault.Unavailable, "tools run on this server only")
		}
	}
	var run Invocation
	if gw == nil {
		if run, err = s.local(cmd); err != nil {
			return nil, err
		}
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		return nil, errBusy
	}
	groupID, target := p.GroupID, "server"
	if gw != nil {
		groupID, target = gw.GroupID, "gateway:"+gw.ID
	}
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, groupID, "network-tool.run", target,
			map[string]any{"tool": cmd.Tool, "target": cmd.Target, "location": loc.String()})
	}); err != nil {
		return nil, err
	}
	res := &Result{Tool: cmd.Tool, Target: cmd.Target, Location: loc, StartedAt: s.now().UTC()}
	if gw == nil {
		err = s.runHere(ctx, run, cmd.Timeout, res)
	} else {
		err = s.runOn(ctx, gw, cmd, res)
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("network tool run", "actor", src.Actor, "tool", cmd.Tool, "target", cmd.Target, "location", loc.String(),
		"status", res.Status, "exit_code", res.ExitCode, "duration", res.Duration)
	return res, nil
}

// locate returns the gateway loc names, within what p administers.
func (s *Service) locate(ctx context.Context, p *authz.Principal, loc Location) (*gateway.Gateway, error) {
	switch loc.Kind {
	case KindGateway:
		return s.gateways.AdminGateway(ctx, p, loc.ID)
	case KindHub:
		h, err := s.gateways.AdminHub(ctx, p, loc.ID)
		if err != nil {
			return nil, err
		}
		return s.gateways.AdminGateway(ctx, p, h.GatewayID)
	case KindSpoke:
		hubID, gwID, _ := strings.Cut(loc.ID, ":")
		h, err := s.gateways.AdminHub(ctx, p, hubID)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(h.Spokes, gateway.Spoke{Kind: gateway.SpokeGateway, ID: gwID}) {
			return nil, fault.New(fault.NotFound, "mesh spoke not found")
		}
		return s.gateways.AdminGateway(ctx, p, gwID)
	}
	return nil, fault.New(fault.Invalid, "unknown location kind").WithDetails(map[string]any{"field": "location"})
}

// local picks the first of cmd's programs installed here.
// Errors: unavailable.
func (s *Service) local(cmd Command) (Invocation, error) {
	for _, r := range cmd.Runs {
		if path, err := s.run.Find(r.Program); err == nil {
			return Invocation{Program: path, Args: r.Args}, nil
		}
	}
	names := make([]string, len(cmd.Runs))
	for i, r := range cmd.Runs {
		names[i] = r.Program
	}
	return Invocation{}, fault.New(fault.Unavailable, strings.Join(names, " or ")+" is not installed on this server").
		WithDetails(map[string]any{"tool": cmd.Tool})
}

// runHere runs the program in its own process group, killed as a whole at
// the timeout, with the fixed environment.
func (s *Service) runHere(ctx context.Context, run Invocation, timeout time.Duration, res *Result) error {
	out, err := s.run.Run(ctx, ProgramRun{Path: run.Program, Args: run.Args, Env: s.env, Timeout: timeout,
		MaxOutput: s.maxOutput})
	if err != nil {
		return fault.New(fault.Unavailable, "the tool could not be started").WithDetails(map[string]any{"tool": res.Tool}).Wrap(err)
	}
	res.Output, res.Truncated, res.ExitCode, res.Duration = string(out.Output), out.Truncated, out.ExitCode, out.Duration
	switch {
	case out.TimedOut:
		res.Status, res.Error = StatusTimeout, "timed out after "+timeout.String()
	case ctx.Err() != nil:
		res.Status, res.Error = StatusError, "cancelled"
	default:
		res.Status, res.Error = exitStatus(res.ExitCode)
	}
	return nil
}

// runOn runs cmd on gw's host through its agent.
func (s *Service) runOn(ctx context.Context, gw *gateway.Gateway, cmd Command, res *Result) error {
	ctx, cancel := context.WithTimeout(ctx, cmd.Timeout+agentGrace)
	defer cancel()
	start := time.Now()
	run, err := s.agents.Exec(ctx, gw.ID, cmd.Shell(), s.maxOutput)
	res.Duration = time.Since(start)
	if run != nil {
		res.Output, res.Truncated, res.ExitCode = string(run.Output), run.Truncated, run.ExitCode
	}
	switch {
	case fault.Is(err, fault.GatewayTimeout):
		res.Status, res.Error, res.ExitCode = StatusTimeout, "no answer from the gateway's agent within "+
			(cmd.Timeout+agentGrace).String(), -1
		return nil
	case err != nil:
		return err
	case run.ExitCode == exitNotFound:
		return fault.New(fault.Unavailable, "the tool is not installed on gateway "+gw.Name).
			WithDetails(map[string]any{"tool": cmd.Tool, "output": strings.TrimSpace(res.Output)})
	case run.ExitCode == timeoutExit:
		res.Status, res.Error = StatusTimeout, "timed out after "+cmd.Timeout.String()
	default:
		res.Status, res.Error = exitStatus(run.ExitCode)
	}
	return nil
}

// timeoutExit is timeout(1)'s status when it ended the program.
const timeoutExit = 124

func exitStatus(code int) (status, msg string) {
	if code == 0 {
		return StatusSuccess, ""
	}
	return StatusError, "exit status " + strconv.Itoa(code)
}
