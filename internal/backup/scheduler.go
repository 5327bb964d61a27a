package backup

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// schedState is what the scheduler reports; guarded by Service.schedMu.
type schedState struct {
	running   bool
	lastRun   time.Time
	lastID    string
	lastError string
	nextRun   time.Time
	runs      int64
	failures  int64
}

// SchedulerStatus is the scheduler's state.
type SchedulerStatus struct {
	Enabled      bool
	Interval     time.Duration
	Keep         int
	MaxAge       time.Duration
	Running      bool // the scheduler loop runs (Run was called and has not returned)
	LastRun      time.Time
	LastBackupID string
	LastError    string
	NextRun      time.Time
	Runs         int64
	Failures     int64
}

// lockSched locks the scheduler's state (not the backup lock, so Status
// never waits for a running backup) and returns the unlock.
func (s *Service) lockSched() func() {
	s.schedMu.Lock()
	return s.schedMu.Unlock
}

// Status reports the scheduler's state.
func (s *Service) Status(ctx context.Context, p *authz.Principal) (*SchedulerStatus, error) {
	if err := allow(p, actRead); err != nil {
		return nil, err
	}
	defer s.lockSched()()
	st := s.sched
	return &SchedulerStatus{
		Enabled: s.cfg.Interval > 0, Interval: s.cfg.Interval, Keep: s.cfg.Keep, MaxAge: s.cfg.MaxAge,
		Running: st.running, LastRun: st.lastRun, LastBackupID: st.lastID, LastError: st.lastError,
		NextRun: st.nextRun, Runs: st.runs, Failures: st.failures,
	}, nil
}

// Trigger takes a backup now as the scheduler would (trigger "scheduled"),
// counted in its status.
func (s *Service) Trigger(ctx context.Context, p *authz.Principal, src audit.Source, description string) (*Backup, error) {
	if err := allow(p, actWrite); err != nil {
		return nil, err
	}
	return s.runScheduled(ctx, src, description)
}

func (s *Service) runScheduled(ctx context.Context, src audit.Source, description string) (*Backup, error) {
	b, err := s.create(ctx, src, description, Scheduled)
	if err != nil && ctx.Err() != nil {
		return nil, err // stopped, not failed
	}
	unlock := s.lockSched()
	defer unlock()
	s.sched.lastRun, s.sched.runs = s.now().UTC(), s.sched.runs+1
	if err != nil {
		s.sched.failures++
		s.sched.lastError = err.Error()
		return nil, err
	}
	s.sched.lastID, s.sched.lastError = b.ID, ""
	return b, nil
}

// Run first removes what backups interrupted by the end of their process
// left in the directory (removeInterrupted), then takes a backup every
// Interval until ctx ends; it returns after the removal when no interval
// is set. Replicas sharing one database each run their own schedule into
// their own directory: enable it on one of them.
func (s *Service) Run(ctx context.Context) {
	s.removeInterrupted()
	if s.cfg.Interval <= 0 {
		return
	}
	set := func(running bool, next time.Time) {
		defer s.lockSched()()
		s.sched.running, s.sched.nextRun = running, next
	}
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	set(true, s.now().Add(s.cfg.Interval).UTC())
	defer set(false, time.Time{})
	src := audit.Source{Actor: "scheduler"}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.runScheduled(ctx, src, ""); err != nil {
				s.log.Error("scheduled backup failed", "error", err)
			}
			set(true, s.now().Add(s.cfg.Interval).UTC())
		}
	}
}
