package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"netkeep/internal/automation"
)

// Workflows and schedules of scripts; steps and parameters are JSON.

const workflowColumns = `id, name, description, steps, created_by, created_at, updated_at`

func scanWorkflow(row interface{ Scan(...any) error }) (*automation.Workflow, error) {
	w := &automation.Workflow{}
	var steps string
	if err := row.Scan(&w.ID, &w.Name, &w.Description, &steps, &w.CreatedBy, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(steps), &w.Steps); err != nil {
		return nil, fmt.Errorf("workflow %s: stored steps: %w", w.ID, err)
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}

// CreateWorkflow inserts w; a taken id or name is a conflict.
func (tx *Tx) CreateWorkflow(ctx context.Context, w *automation.Workflow) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO workflows (`+workflowColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		w.ID, w.Name, w.Description, jsonText(w.Steps), w.CreatedBy, w.CreatedAt.UTC(), w.UpdatedAt.UTC())
	return classify(err, "", "a workflow with this name already exists")
}

// WorkflowByID returns the workflow or not_found.
func (tx *Tx) WorkflowByID(ctx context.Context, id string) (*automation.Workflow, error) {
	w, err := scanWorkflow(tx.q.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE id = $1`, id))
	return w, classify(err, "workflow not found", "")
}

// ListWorkflows returns the workflows by name.
func (tx *Tx) ListWorkflows(ctx context.Context) ([]*automation.Workflow, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+workflowColumns+` FROM workflows ORDER BY lower(name)`)
	if err != nil {
		return nil, wrap(err, "listing workflows")
	}
	defer rows.Close()
	out := []*automation.Workflow{}
	for rows.Next() {
		w, err := scanWorkflow(rows)
		if err != nil {
			return nil, wrap(err, "listing workflows")
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWorkflow removes the workflow and the schedules that run it.
func (tx *Tx) DeleteWorkflow(ctx context.Context, id string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM schedules WHERE workflow_id = $1`, id); err != nil {
		return wrap(err, "deleting workflow", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM workflows WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting workflow", id)
	}
	return mustAffect(res, "workflow not found")
}

const scheduleColumns = `id, script_id, workflow_id, cron_expression, parameters, enabled, last_run_at, next_run_at, created_by, created_at`

func scanSchedule(row interface{ Scan(...any) error }) (*automation.Schedule, error) {
	s := &automation.Schedule{}
	var params string
	var last, next sql.NullTime
	if err := row.Scan(&s.ID, &s.ScriptID, &s.WorkflowID, &s.CronExpression, &params, &s.Enabled, &last, &next,
		&s.CreatedBy, &s.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &s.Parameters); err != nil {
		return nil, fmt.Errorf("schedule %s: stored parameters: %w", s.ID, err)
	}
	s.LastRunAt, s.NextRunAt, s.CreatedAt = timePtr(last), timePtr(next), s.CreatedAt.UTC()
	return s, nil
}

func scanSchedules(rows *sql.Rows, err error) ([]*automation.Schedule, error) {
	if err != nil {
		return nil, wrap(err, "listing schedules")
	}
	defer rows.Close()
	out := []*automation.Schedule{}
	for rows.Next() {
		s, err := scanSchedule(rows)
		if err != nil {
			return nil, wrap(err, "listing schedules")
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CreateSchedule inserts s.
func (tx *Tx) CreateSchedule(ctx context.Context, s *automation.Schedule) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO schedules (`+scheduleColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.ScriptID, s.WorkflowID, s.CronExpression, jsonText(s.Parameters), s.Enabled, nullable(s.LastRunAt),
		nullable(s.NextRunAt), s.CreatedBy, s.CreatedAt.UTC())
	return wrap(err, "creating schedule", s.ID)
}

// ScheduleByID returns the schedule or not_found.
func (tx *Tx) ScheduleByID(ctx context.Context, id string) (*automation.Schedule, error) {
	s, err := scanSchedule(tx.q.QueryRowContext(ctx, `SELECT `+scheduleColumns+` FROM schedules WHERE id = $1`, id))
	return s, classify(err, "schedule not found", "")
}

// ListSchedules returns every schedule, oldest first.
func (tx *Tx) ListSchedules(ctx context.Context) ([]*automation.Schedule, error) {
	return scanSchedules(tx.q.QueryContext(ctx, `SELECT `+scheduleColumns+` FROM schedules ORDER BY created_at, id`))
}

// DeleteSchedule removes a schedule and its claims.
func (tx *Tx) DeleteSchedule(ctx context.Context, id string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM schedule_runs WHERE schedule_id = $1`, id); err != nil {
		return wrap(err, "deleting schedule", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM schedules WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting schedule", id)
	}
	return mustAffect(res, "schedule not found")
}

// DueSchedules returns the enabled schedules due at or before now.
func (tx *Tx) DueSchedules(ctx context.Context, now time.Time) ([]*automation.Schedule, error) {
	return scanSchedules(tx.q.QueryContext(ctx, `SELECT `+scheduleColumns+` FROM schedules
		WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at, id`, now.UTC()))
}

// ClaimScheduleRun claims the run due at due once: the insert of an
// already claimed (schedule, due time) changes nothing. The winner moves
// the schedule on.
func (tx *Tx) ClaimScheduleRun(ctx context.Context, id string, due, next time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO schedule_runs (schedule_id, due_at, claimed_at) VALUES ($1, $2, $3)
		ON CONFLICT (schedule_id, due_at) DO NOTHING`, id, due.UTC(), time.Now().UTC())
	if err != nil {
		return false, wrap(err, "claiming schedule run", id)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = tx.q.ExecContext(ctx, `UPDATE schedules SET last_run_at = $1, next_run_at = $2
		WHERE id = $3 AND (last_run_at IS NULL OR last_run_at < $1)`, due.UTC(), next.UTC(), id)
	return err == nil, wrap(err, "moving schedule on", id)
}
