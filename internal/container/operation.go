package container

import (
	"context"
	"fmt"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Operation is what can be done to a container.
type Operation string

// The operations.
const (
	OpStart   Operation = "start"
	OpStop    Operation = "stop"
	OpRestart Operation = "restart"
)

// ParseOperation checks an operation's name.
func ParseOperation(s string) (Operation, error) {
	switch o := Operation(s); o {
	case OpStart, OpStop, OpRestart:
		return o, nil
	}
	return "", fault.Errorf(fault.Invalid, "unknown operation %q: use start, stop or restart", s).
		WithDetails(map[string]any{"operation": s})
}

// done is the status a successful operation reports.
func (o Operation) done() string {
	switch o {
	case OpStart:
		return "started"
	case OpStop:
		return "stopped"
	}
	return "restarted"
}

// run performs o on container id of rt.
func (o Operation) run(ctx context.Context, rt Runtime, id string, timeout time.Duration) error {
	switch o {
	case OpStart:
		return rt.Start(ctx, id)
	case OpStop:
		return rt.Stop(ctx, id, timeout)
	}
	return rt.Restart(ctx, id, timeout)
}

// CheckTimeout validates a grace period in seconds (1-MaxTimeout).
func CheckTimeout(seconds int) error {
	if seconds < 1 || seconds > MaxTimeout {
		return fault.Errorf(fault.Invalid, "timeout must be between 1 and %d seconds", MaxTimeout).
			WithDetails(map[string]any{"timeout": seconds})
	}
	return nil
}

// admit checks that p may act on containers, and o and its grace period.
func admit(p *authz.Principal, o Operation, timeout int) error {
	if err := authz.AllowServer(p, ActWrite); err != nil {
		return err
	}
	if _, err := ParseOperation(string(o)); err != nil {
		return err
	}
	return CheckTimeout(timeout)
}

// Accepted is an operation that has begun; its Completion follows on
// Topic.
type Accepted struct {
	ContainerID string
	Operation   Operation
	Timeout     int // seconds
	Time        time.Time
}

// Completion is an operation's outcome, the data of its
// "container.<op>.completed" message. A failed operation reports Status
// "failed" and says why in Error.
type Completion struct {
	ContainerID string    `json:"containerId"`
	Operation   Operation `json:"operation"`
	Status      string    `json:"status"`
	Message     string    `json:"message"`
	Error       string    `json:"error,omitempty"`
	Timestamp   int64     `json:"timestamp"`
}

// Type is the message type of c: "container.start.completed", ...
func (c Completion) Type() string { return "container." + string(c.Operation) + ".completed" }

// opTimeout is how long an operation may take in all: its grace period
// and a margin for the engine.
func opTimeout(grace time.Duration) time.Duration { return grace + time.Minute }

// perform runs o on one container and publishes its completion. It
// returns the completion.
func (s *Service) perform(rt Runtime, id string, o Operation, grace time.Duration) Completion {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout(grace))
	defer cancel()
	err := o.run(ctx, rt, id, grace)
	c := Completion{ContainerID: id, Operation: o, Status: o.done(), Timestamp: s.now().Unix()}
	if err != nil {
		c.Status, c.Error = "failed", failure(err)
		c.Message = fmt.Sprintf("Container %s failed", o)
		s.log.Warn("container operation failed", "container", id, "operation", o, "err", err)
	} else {
		c.Message = fmt.Sprintf("Container %s successfully", o.done())
	}
	s.publish(c)
	return c
}

// Operate begins o on container id and returns at once; the Completion
// follows on Topic. timeout is the grace period of stop and restart, in
// seconds. The container must exist (not_found otherwise); the request is
// audited before it runs.
func (s *Service) Operate(ctx context.Context, p *authz.Principal, src audit.Source, o Operation, id string, timeout int) (*Accepted, error) {
	if err := admit(p, o, timeout); err != nil {
		return nil, err
	}
	rt, d, err := s.find(ctx, id)
	if err != nil {
		return nil, err
	}
	entry, err := auditEntry(src, o, id, d, timeout)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, entry); err != nil {
		return nil, err
	}
	grace := time.Duration(timeout) * time.Second
	s.pending.Go(func() { s.perform(rt, d.ID, o, grace) })
	return &Accepted{ContainerID: id, Operation: o, Timeout: timeout, Time: s.now()}, nil
}

func auditEntry(src audit.Source, o Operation, id string, d *Detail, timeout int) (*audit.Entry, error) {
	return audit.NewEntry(src, 0, "container."+string(o), "container:"+id,
		map[string]any{"id": d.ID, "name": d.Name, "runtime": d.Runtime, "timeout": timeout})
}

func (s *Service) record(ctx context.Context, es ...*audit.Entry) error {
	return s.store.InTx(ctx, func(tx Tx) error { return audit.RecordAll(ctx, tx, es) })
}

// Result is one container's outcome in a bulk operation.
type Result struct {
	ContainerID string
	Name        string
	Success     bool
	Status      string // the done status, "failed", or "not_found"
	Error       string // why it failed
}

// Batch performs o on each of ids and waits for every one: one Result per
// id, in order; a container that does not exist or fails is reported in
// its Result, never hides the others'.
func (s *Service) Batch(ctx context.Context, p *authz.Principal, src audit.Source, o Operation, ids []string, timeout int) ([]Result, error) {
	if err := admit(p, o, timeout); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > MaxBatch {
		return nil, fault.Errorf(fault.Invalid, "containerIds must name 1 to %d containers", MaxBatch)
	}
	results := make([]Result, len(ids))
	targets := make([]target, len(ids))
	errs := make([]error, len(ids))
	each(len(ids), s.parallel, func(i int) {
		results[i].ContainerID = ids[i]
		rt, d, err := s.find(ctx, ids[i])
		switch {
		case err == nil:
			results[i].Name = d.Name
			targets[i] = target{rt: rt, detail: d}
		case fault.Is(err, fault.NotFound):
			results[i].Status, results[i].Error = "not_found", "container not found"
		case fault.Is(err, fault.Unavailable), ctx.Err() != nil:
			errs[i] = err // the engine is away: nothing can be done
		default:
			// The engine refused this reference (an ambiguous id prefix):
			// it fails here, at its own place, and the others go on.
			results[i].Status, results[i].Error = "failed", failure(err)
			s.log.Warn("container batch: looking up a container", "container", ids[i], "err", err)
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return s.bulk(ctx, src, o, ids, targets, results, timeout)
}

// failure is what a result or completion says of err: the fault's
// message, or "internal error" for an error without a code (logged).
func failure(err error) string {
	if fe := fault.As(err); fe != nil && fe.Code != fault.Internal {
		return fe.Message
	}
	return "internal error"
}

// target is a container a bulk operation acts on.
type target struct {
	rt     Runtime
	detail *Detail
}

// bulk audits then performs o on every target (a nil rt is skipped: its
// result is already written), at most s.parallel at once.
func (s *Service) bulk(ctx context.Context, src audit.Source, o Operation, ids []string, targets []target, results []Result, timeout int) ([]Result, error) {
	var entries []*audit.Entry
	for i, t := range targets {
		if t.rt == nil {
			continue
		}
		e, err := auditEntry(src, o, ids[i], t.detail, timeout)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if err := s.record(ctx, entries...); err != nil {
		return nil, err
	}
	grace := time.Duration(timeout) * time.Second
	each(len(targets), s.parallel, func(i int) {
		t := targets[i]
		if t.rt == nil {
			return
		}
		c := s.perform(t.rt, t.detail.ID, o, grace)
		results[i].Success, results[i].Status, results[i].Error = c.Error == "", c.Status, c.Error
	})
	return results, nil
}

// All performs o on every container it applies to: start on those not
// running, stop on those running, restart on every one; like Batch it
// waits and reports one Result per container.
func (s *Service) All(ctx context.Context, p *authz.Principal, src audit.Source, o Operation, timeout int) ([]Result, error) {
	if err := admit(p, o, timeout); err != nil {
		return nil, err
	}
	rts, err := s.pick("")
	if err != nil {
		return nil, err
	}
	var ids []string
	var targets []target
	var results []Result
	for _, rt := range rts {
		cs, err := rt.List(ctx, Filter{})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			running := c.State == StateRunning
			if (o == OpStart && running) || (o == OpStop && !running) {
				continue
			}
			ids = append(ids, c.ID)
			targets = append(targets, target{rt: rt, detail: &Detail{Summary: c}})
			results = append(results, Result{ContainerID: c.ID, Name: c.Name})
		}
	}
	return s.bulk(ctx, src, o, ids, targets, results, timeout)
}
