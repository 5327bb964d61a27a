package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"netkeep/internal/toolbox"
)

// Toolbox deployments; env_vars and containers are stored as JSON.

const deploymentColumns = `id, template_id, name, status, reason, env_vars, custom_port, auto_start, containers,
	created_by, created_at, updated_at`

const deploymentConflict = "a deployment of this name exists already: remove it first or choose another serviceName"

func scanDeployment(row interface{ Scan(...any) error }) (*toolbox.Deployment, error) {
	d := &toolbox.Deployment{}
	var env, containers string
	if err := row.Scan(&d.ID, &d.TemplateID, &d.Name, &d.Status, &d.Reason, &env, &d.CustomPort, &d.AutoStart, &containers,
		&d.CreatedBy, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(env), &d.EnvVars); err != nil {
		return nil, fmt.Errorf("deployment %s: stored env_vars: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(containers), &d.Containers); err != nil {
		return nil, fmt.Errorf("deployment %s: stored containers: %w", d.ID, err)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, nil
}

// CreateDeployment inserts d; a taken id or name is a conflict.
func (tx *Tx) CreateDeployment(ctx context.Context, d *toolbox.Deployment) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO toolbox_deployments (`+deploymentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		d.ID, d.TemplateID, d.Name, d.Status, d.Reason, jsonText(d.EnvVars), d.CustomPort, d.AutoStart, jsonText(d.Containers),
		d.CreatedBy, d.CreatedAt.UTC(), d.UpdatedAt.UTC())
	return classify(err, "", deploymentConflict)
}

// UpdateDeployment writes d's status, reason and containers.
func (tx *Tx) UpdateDeployment(ctx context.Context, d *toolbox.Deployment) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE toolbox_deployments SET status = $1, reason = $2, containers = $3, updated_at = $4
		WHERE id = $5`, d.Status, d.Reason, jsonText(d.Containers), d.UpdatedAt.UTC(), d.ID)
	if err != nil {
		return wrap(err, "updating deployment", d.ID)
	}
	if err := mustAffect(res, ""); err != nil {
		return toolbox.NotFoundDeployment(d.ID)
	}
	return nil
}

// DeploymentByID returns the deployment or not_found.
func (tx *Tx) DeploymentByID(ctx context.Context, id string) (*toolbox.Deployment, error) {
	d, err := scanDeployment(tx.q.QueryRowContext(ctx, `SELECT `+deploymentColumns+` FROM toolbox_deployments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, toolbox.NotFoundDeployment(id)
	}
	return d, wrap(err, "reading deployment", id)
}

// ListDeployments returns the deployments of status ("" all), newest first.
func (tx *Tx) ListDeployments(ctx context.Context, status toolbox.Status) ([]*toolbox.Deployment, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+deploymentColumns+` FROM toolbox_deployments
		WHERE ($1 = '' OR status = $1) ORDER BY created_at DESC, id DESC`, string(status))
	if err != nil {
		return nil, wrap(err, "listing deployments")
	}
	defer rows.Close()
	out := []*toolbox.Deployment{}
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, wrap(err, "listing deployments")
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDeployment forgets a deployment.
func (tx *Tx) DeleteDeployment(ctx context.Context, id string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM toolbox_deployments WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting deployment", id)
	}
	if err := mustAffect(res, ""); err != nil {
		return toolbox.NotFoundDeployment(id)
	}
	return nil
}
