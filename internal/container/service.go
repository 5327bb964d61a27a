package container

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Topic is the event topic of container operations; each event's action is
// the Nekzus message type ("container.start.completed") and its data a
// Completion.
const Topic = "container"

// The authz actions. Containers are server-wide (a container is no group's
// and can reach the host): only super principals act on them.
const (
	ActRead  authz.Action = "containers:read"
	ActWrite authz.Action = "containers:write"
)

// The limits of an operation's grace period, in seconds.
const (
	DefaultTimeout = 10
	MaxTimeout     = 300
	// MaxBatch is the most containers one batch names.
	MaxBatch = 500
	// MaxTail is the most past lines a log stream starts with.
	MaxTail = 10000
)

// Reasons.
const (
	ReasonNotFound fault.Reason = "container_not_found"
	// ReasonNoRuntime: no runtime can answer (none configured, or its
	// engine is away). toolbox.ReasonNoEngine is the same code, so a client
	// sees one for the engine's absence whichever routes it calls.
	ReasonNoRuntime fault.Reason = "container_runtime_unavailable"
)

// Tx is what the service writes in a store transaction: audit entries
// (containers themselves live in the runtimes, not the database).
type Tx interface {
	audit.Writer
}

// Store runs a write transaction.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
}

// Service manages the containers of its runtimes.
type Service struct {
	runtimes []Runtime
	store    Store
	bus      event.Bus
	log      *slog.Logger
	now      func() time.Time
	// parallel bounds the engine calls one request makes at once (bulk
	// operations); statsParallel the stats samples, which mostly wait
	// out their window.
	parallel, statsParallel int

	pending sync.WaitGroup // asynchronous operations still running
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger of asynchronous operations.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithParallel bounds the engine calls one request makes at once: bulk
// operations (default 32) and stats samples (default 128).
func WithParallel(ops, stats int) Option {
	return func(s *Service) { s.parallel, s.statsParallel = max(ops, 1), max(stats, 1) }
}

// NewService returns a service over runtimes (none: container management
// is off, and every call answers unavailable). Completions are published
// on bus.
func NewService(st Store, bus event.Bus, runtimes []Runtime, opts ...Option) *Service {
	s := &Service{runtimes: runtimes, store: st, bus: bus, now: time.Now, parallel: 32, statsParallel: 128,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Wait returns once the asynchronous operations started so far have ended
// (shutdown, tests).
func (s *Service) Wait() { s.pending.Wait() }

// Runtimes names the configured runtimes.
func (s *Service) Runtimes() []string {
	out := make([]string, len(s.runtimes))
	for i, rt := range s.runtimes {
		out[i] = rt.Name()
	}
	return out
}

var errDisabled = fault.New(fault.Unavailable, "container management is not enabled: no container runtime is configured").
	WithReason(ReasonNoRuntime)

// pick returns the runtimes a filter names: every configured one for "".
func (s *Service) pick(name string) ([]Runtime, error) {
	if len(s.runtimes) == 0 {
		return nil, errDisabled
	}
	if name == "" {
		return s.runtimes, nil
	}
	for _, rt := range s.runtimes {
		if rt.Name() == name {
			return []Runtime{rt}, nil
		}
	}
	switch name {
	case RuntimeDocker, RuntimeKubernetes:
		return nil, fault.Errorf(fault.Unavailable, "the %s runtime is not configured on this server", name).WithReason(ReasonNoRuntime)
	}
	return nil, fault.Errorf(fault.Invalid, "unknown runtime %q: use docker or kubernetes", name).
		WithDetails(map[string]any{"runtime": name})
}

// idPattern is what a container reference may look like: an id, an id
// prefix or a name.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$`)

func notFound(id string) error {
	return fault.New(fault.NotFound, "container not found").WithReason(ReasonNotFound).
		WithDetails(map[string]any{"containerId": id})
}

// find returns the runtime holding container id, and its detail.
func (s *Service) find(ctx context.Context, id string) (Runtime, *Detail, error) {
	if len(s.runtimes) == 0 {
		return nil, nil, errDisabled
	}
	if !idPattern.MatchString(id) {
		return nil, nil, notFound(id)
	}
	for _, rt := range s.runtimes {
		d, err := rt.Inspect(ctx, id)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return rt, d, nil
	}
	return nil, nil, notFound(id)
}

// List returns the containers of the runtimes f names.
func (s *Service) List(ctx context.Context, p *authz.Principal, f Filter) ([]Summary, error) {
	if err := authz.AllowServer(p, ActRead); err != nil {
		return nil, err
	}
	rts, err := s.pick(f.Runtime)
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, rt := range rts {
		cs, err := rt.List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// Get returns one container in full.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (*Detail, error) {
	if err := authz.AllowServer(p, ActRead); err != nil {
		return nil, err
	}
	_, d, err := s.find(ctx, id)
	return d, err
}

// Stats samples one container's resource usage.
func (s *Service) Stats(ctx context.Context, p *authz.Principal, id string) (*Stats, error) {
	if err := authz.AllowServer(p, ActRead); err != nil {
		return nil, err
	}
	rt, d, err := s.find(ctx, id)
	if err != nil {
		return nil, err
	}
	return rt.Stats(ctx, d.ID)
}

// AllStats reads every running container's usage at once. A container that
// stops or vanishes meanwhile is left out; an engine that cannot be
// reached fails the call.
func (s *Service) AllStats(ctx context.Context, p *authz.Principal) ([]Stats, error) {
	if err := authz.AllowServer(p, ActRead); err != nil {
		return nil, err
	}
	rts, err := s.pick("")
	if err != nil {
		return nil, err
	}
	type job struct {
		rt Runtime
		id string
	}
	var jobs []job
	for _, rt := range rts {
		cs, err := rt.List(ctx, Filter{})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.State == StateRunning {
				jobs = append(jobs, job{rt, c.ID})
			}
		}
	}
	res := make([]*Stats, len(jobs))
	errs := make([]error, len(jobs))
	each(len(jobs), s.statsParallel, func(i int) { res[i], errs[i] = jobs[i].rt.Stats(ctx, jobs[i].id) })
	out := make([]Stats, 0, len(jobs))
	for i, st := range res {
		switch {
		case errs[i] == nil:
			out = append(out, *st)
		case fault.Is(errs[i], fault.NotFound), fault.Is(errs[i], fault.Conflict):
		default:
			return nil, errs[i]
		}
	}
	return out, nil
}

// each runs fn(0..n-1), at most limit at once, and waits.
func each(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// Logs streams a container's output to emit (see Runtime.Logs).
func (s *Service) Logs(ctx context.Context, p *authz.Principal, id string, o LogOptions, emit func(LogLine) bool) error {
	if err := authz.AllowServer(p, ActRead); err != nil {
		return err
	}
	if o.Tail < -1 || o.Tail > MaxTail {
		return fault.Errorf(fault.Invalid, "tail must be between 0 and %d (or -1 for the whole log)", MaxTail)
	}
	rt, d, err := s.find(ctx, id)
	if err != nil {
		return err
	}
	return rt.Logs(ctx, d.ID, o, emit)
}

// publish sends c as its operation's completion message; a bus that
// cannot take it is logged, never fatal to the operation.
func (s *Service) publish(c Completion) {
	data, err := json.Marshal(c)
	if err == nil {
		err = s.bus.Publish(context.Background(), event.Event{Topic: Topic, Action: c.Type(), ID: c.ContainerID, Data: data, Time: s.now()})
	}
	if err != nil && !errors.Is(err, event.ErrClosed) {
		s.log.Warn("publishing a container completion", "container", c.ContainerID, "err", err)
	}
}
