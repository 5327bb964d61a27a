package automation

import (
	"context"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Schedule runs a script or a workflow at the times a cron expression
// names (five fields, or @daily-style descriptors; "CRON_TZ=Europe/Berlin "
// in front sets its time zone, UTC otherwise).
//
// Each due time fires once, whatever the number of replicas: the replica
// that claims (schedule, due time) first runs it. After downtime, missed
// due times are not replayed one by one: the latest missed one fires once,
// then the schedule continues from the next future time.
type Schedule struct {
	ID             string
	ScriptID       string
	WorkflowID     string
	CronExpression string
	Parameters     map[string]string
	Enabled        bool
	LastRunAt      *time.Time
	NextRunAt      *time.Time
	CreatedBy      string
	CreatedAt      time.Time
}

// NewSchedule is what a caller creates.
type NewSchedule struct {
	ScriptID       string
	WorkflowID     string
	CronExpression string
	Parameters     map[string]string
	Enabled        *bool // nil: true
}

// ReasonScheduleNotFound is the reason of an unknown schedule.
const ReasonScheduleNotFound fault.Reason = "schedule_not_found"

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func parseCron(expr string) (cron.Schedule, error) {
	sched, err := cronParser.Parse(strings.TrimSpace(expr))
	if err != nil {
		return nil, invalid("cronExpression", "cronExpression is not a valid cron expression: "+err.Error())
	}
	return sched, nil
}

// CreateSchedule stores a schedule of a registered script or workflow.
// Errors: invalid, not_found (the target), forbidden, unavailable.
func (s *Service) CreateSchedule(ctx context.Context, p *authz.Principal, src audit.Source, in NewSchedule) (*Schedule, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	if s.cfg.Dir == "" {
		return nil, errDisabled
	}
	if (in.ScriptID == "") == (in.WorkflowID == "") {
		return nil, invalid("scriptId", "name exactly one of scriptId and workflowId")
	}
	sched, err := parseCron(in.CronExpression)
	if err != nil {
		return nil, err
	}
	if in.ScriptID != "" {
		sc, err := s.script(ctx, s.store.Read(), in.ScriptID)
		if err != nil {
			return nil, err
		}
		if _, err := params(sc, in.Parameters); err != nil {
			return nil, err
		}
	} else {
		if _, err := s.workflow(ctx, s.store.Read(), in.WorkflowID); err != nil {
			return nil, err
		}
		if len(in.Parameters) > 0 {
			return nil, invalid("parameters", "a workflow's parameters are its steps'")
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	next := sched.Next(now).UTC()
	sc := &Schedule{ID: "sched_" + newExecutionID()[5:], ScriptID: in.ScriptID, WorkflowID: in.WorkflowID,
		CronExpression: strings.TrimSpace(in.CronExpression), Parameters: in.Parameters, Enabled: in.Enabled == nil || *in.Enabled,
		NextRunAt: &next, CreatedBy: p.Actor(), CreatedAt: now}
	if sc.Parameters == nil {
		sc.Parameters = map[string]string{}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateSchedule(ctx, sc); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "schedule.create", "schedule:"+sc.ID,
			map[string]any{"script": sc.ScriptID, "workflow": sc.WorkflowID, "cron": sc.CronExpression, "enabled": sc.Enabled})
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// GetSchedule returns one schedule.
func (s *Service) GetSchedule(ctx context.Context, p *authz.Principal, id string) (*Schedule, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	sc, err := s.store.Read().ScheduleByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.NotFound, "schedule not found").WithReason(ReasonScheduleNotFound).WithDetails(map[string]any{"schedule_id": id})
	}
	return sc, err
}

// ListSchedules returns the schedules, oldest first.
func (s *Service) ListSchedules(ctx context.Context, p *authz.Principal) ([]*Schedule, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListSchedules(ctx)
}

// DeleteSchedule removes a schedule.
func (s *Service) DeleteSchedule(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	if _, err := s.GetSchedule(ctx, p, id); err != nil {
		return err
	}
	if err := authz.AllowServer(p, actWrite); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteSchedule(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "schedule.delete", "schedule:"+id, nil)
	})
}

// Tick fires every enabled schedule due at now: it claims each due time
// (once across replicas), moves the schedule to its next future time, and
// starts the run in the background. It returns the schedules it fired.
func (s *Service) Tick(ctx context.Context, now time.Time) []string {
	if s.cfg.Dir == "" {
		return nil
	}
	due, err := s.store.Read().DueSchedules(ctx, now.UTC())
	if err != nil {
		s.log.Warn("reading due schedules", "error", err)
		return nil
	}
	var fired []string
	for _, sc := range due {
		sched, err := parseCron(sc.CronExpression)
		if err != nil {
			s.log.Warn("schedule has an unreadable cron expression", "schedule", sc.ID, "error", err)
			continue
		}
		// The latest due time not after now (the others were missed while
		// no replica ran), bounded for schedules that fire every minute.
		at := sc.NextRunAt.UTC()
		for n, i := sched.Next(at), 0; !n.After(now) && i < 100_000; n, i = sched.Next(n), i+1 {
			at = n.UTC()
		}
		next := sched.Next(now.UTC()).UTC()
		claimed := false
		err = s.store.InTx(ctx, func(tx Tx) error {
			var err error
			if claimed, err = tx.ClaimScheduleRun(ctx, sc.ID, at, next); err != nil || !claimed {
				return err
			}
			return audit.Record(ctx, tx, audit.Source{Actor: "scheduler"}, 0, "schedule.fire", "schedule:"+sc.ID,
				map[string]any{"due": at, "next": next})
		})
		if err != nil {
			s.log.Warn("claiming a schedule run", "schedule", sc.ID, "error", err)
			continue
		}
		if !claimed {
			continue // another replica runs it
		}
		fired = append(fired, sc.ID)
		s.fire(sc)
	}
	return fired
}

// fire runs a claimed schedule's target in the background.
func (s *Service) fire(sc *Schedule) {
	by, src := "scheduler:"+sc.ID, audit.Source{Actor: "scheduler:" + sc.ID}
	if sc.WorkflowID != "" {
		w, err := s.workflow(s.bg, s.store.Read(), sc.WorkflowID)
		if err != nil {
			s.log.Warn("scheduled workflow is gone", "schedule", sc.ID, "workflow", sc.WorkflowID)
			return
		}
		go s.runWorkflow(s.bg, src, w, by)
		return
	}
	script, err := s.script(s.bg, s.store.Read(), sc.ScriptID)
	if err != nil {
		s.log.Warn("scheduled script is gone", "schedule", sc.ID, "script", sc.ScriptID)
		return
	}
	ps, abs, err := s.prepare(script, sc.Parameters)
	if err != nil {
		s.log.Warn("scheduled script cannot run", "schedule", sc.ID, "error", err)
		return
	}
	e, err := s.record(s.bg, src, script, ps, runOpts{triggeredBy: by})
	if err != nil {
		s.log.Error("recording a scheduled run", "schedule", sc.ID, "error", err)
		return
	}
	go func() {
		if err := s.acquire(s.bg); err != nil {
			e.Status, e.ErrorMessage = Cancelled, "netkeep stopped before a run slot was free"
			s.finish(context.Background(), e)
			return
		}
		defer func() { <-s.slots }()
		s.runOne(s.bg, script, abs, ps, e)
	}()
}

// RunSchedules calls Tick every interval until ctx ends.
func (s *Service) RunSchedules(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick(ctx, s.now())
		}
	}
}
