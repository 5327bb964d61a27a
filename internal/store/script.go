package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"netkeep/internal/automation"
)

// Scripts and their executions; parameters are stored as JSON.

const scriptColumns = `id, name, description, category, script_path, script_type, timeout_seconds, parameters,
	created_by, created_at, updated_at`

const scriptNotFound = "script not found"

func scanScript(row interface{ Scan(...any) error }) (*automation.Script, error) {
	s := &automation.Script{}
	var params string
	if err := row.Scan(&s.ID, &s.Name, &s.Description, &s.Category, &s.ScriptPath, &s.ScriptType, &s.TimeoutSeconds,
		&params, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &s.Parameters); err != nil {
		return nil, fmt.Errorf("script %s: stored parameters: %w", s.ID, err)
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateScript inserts s; a taken id or name is a conflict.
func (tx *Tx) CreateScript(ctx context.Context, s *automation.Script) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO scripts (`+scriptColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.Name, s.Description, s.Category, s.ScriptPath, s.ScriptType, s.TimeoutSeconds, jsonText(s.Parameters),
		s.CreatedBy, s.CreatedAt.UTC(), s.UpdatedAt.UTC())
	return classify(err, "", "a script with this name already exists")
}

// ScriptByID returns the script or not_found.
func (tx *Tx) ScriptByID(ctx context.Context, id string) (*automation.Script, error) {
	s, err := scanScript(tx.q.QueryRowContext(ctx, `SELECT `+scriptColumns+` FROM scripts WHERE id = $1`, id))
	return s, classify(err, scriptNotFound, "")
}

// ListScripts returns the scripts of category ("" every one) by name.
func (tx *Tx) ListScripts(ctx context.Context, category string) ([]*automation.Script, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+scriptColumns+` FROM scripts WHERE ($1 = '' OR category = $1) ORDER BY lower(name)`, category)
	if err != nil {
		return nil, wrap(err, "listing scripts")
	}
	defer rows.Close()
	out := []*automation.Script{}
	for rows.Next() {
		s, err := scanScript(rows)
		if err != nil {
			return nil, wrap(err, "listing scripts")
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// UpdateScript writes every field of s but ID and CreatedAt.
func (tx *Tx) UpdateScript(ctx context.Context, s *automation.Script) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE scripts SET name = $1, description = $2, category = $3, script_path = $4,
		script_type = $5, timeout_seconds = $6, parameters = $7, updated_at = $8 WHERE id = $9`,
		s.Name, s.Description, s.Category, s.ScriptPath, s.ScriptType, s.TimeoutSeconds, jsonText(s.Parameters), s.UpdatedAt.UTC(), s.ID)
	if err != nil {
		return classify(err, "", "a script with this name already exists")
	}
	return mustAffect(res, scriptNotFound)
}

// DeleteScript removes a script and the schedules that run it (its
// executions stay).
func (tx *Tx) DeleteScript(ctx context.Context, id string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM schedules WHERE script_id = $1`, id); err != nil {
		return wrap(err, "deleting script", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM scripts WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting script", id)
	}
	return mustAffect(res, scriptNotFound)
}

const executionColumns = `id, script_id, workflow_id, workflow_run_id, status, is_dry_run, triggered_by, parameters,
	exit_code, output, truncated, error_message, created_at, started_at, ended_at`

func scanExecution(row interface{ Scan(...any) error }) (*automation.Execution, error) {
	e := &automation.Execution{}
	var params string
	var exit sql.NullInt64
	var started, ended sql.NullTime
	if err := row.Scan(&e.ID, &e.ScriptID, &e.WorkflowID, &e.WorkflowRunID, &e.Status, &e.IsDryRun, &e.TriggeredBy, &params, &exit, &e.Output, &e.Truncated,
		&e.ErrorMessage, &e.CreatedAt, &started, &ended); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &e.Parameters); err != nil {
		return nil, fmt.Errorf("execution %s: stored parameters: %w", e.ID, err)
	}
	if exit.Valid {
		c := int(exit.Int64)
		e.ExitCode = &c
	}
	e.CreatedAt, e.StartedAt, e.EndedAt = e.CreatedAt.UTC(), timePtr(started), timePtr(ended)
	return e, nil
}

// CreateExecution inserts e.
func (tx *Tx) CreateExecution(ctx context.Context, e *automation.Execution) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO script_executions (`+executionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		e.ID, e.ScriptID, e.WorkflowID, e.WorkflowRunID, string(e.Status), e.IsDryRun, e.TriggeredBy, jsonText(e.Parameters), exitCode(e.ExitCode), e.Output,
		e.Truncated, e.ErrorMessage, e.CreatedAt.UTC(), nullable(e.StartedAt), nullable(e.EndedAt))
	return wrap(err, "recording execution", e.ID)
}

func exitCode(c *int) any {
	if c == nil {
		return nil
	}
	return *c
}

// UpdateExecution writes e's progress.
func (tx *Tx) UpdateExecution(ctx context.Context, e *automation.Execution) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE script_executions SET status = $1, exit_code = $2, output = $3, truncated = $4,
		error_message = $5, started_at = $6, ended_at = $7 WHERE id = $8`,
		string(e.Status), exitCode(e.ExitCode), e.Output, e.Truncated, e.ErrorMessage, nullable(e.StartedAt), nullable(e.EndedAt), e.ID)
	if err != nil {
		return wrap(err, "recording execution", e.ID)
	}
	return mustAffect(res, "execution not found")
}

// ExecutionByID returns the execution or not_found.
func (tx *Tx) ExecutionByID(ctx context.Context, id string) (*automation.Execution, error) {
	e, err := scanExecution(tx.q.QueryRowContext(ctx, `SELECT `+executionColumns+` FROM script_executions WHERE id = $1`, id))
	return e, classify(err, "execution not found", "")
}

// ListExecutions returns the executions matching f, newest first.
func (tx *Tx) ListExecutions(ctx context.Context, f automation.ExecutionFilter) ([]*automation.Execution, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+executionColumns+` FROM script_executions
		WHERE ($1 = '' OR script_id = $1) AND ($2 = '' OR status = $2) ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
		f.ScriptID, string(f.Status), pageLimit(f.Limit), f.Offset)
	if err != nil {
		return nil, wrap(err, "listing executions")
	}
	defer rows.Close()
	out := []*automation.Execution{}
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, wrap(err, "listing executions")
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
