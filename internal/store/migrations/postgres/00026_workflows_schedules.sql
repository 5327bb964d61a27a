-- +goose Up
-- Workflows (ordered script steps, JSON) and schedules (cron, of a script
-- or a workflow). schedule_runs holds each claimed due time once: the
-- replica whose insert lands runs it. Executions name the workflow run
-- they were a step of ('' when run alone).
ALTER TABLE script_executions ADD COLUMN workflow_id TEXT NOT NULL DEFAULT '';
ALTER TABLE script_executions ADD COLUMN workflow_run_id TEXT NOT NULL DEFAULT '';

CREATE TABLE workflows (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    steps       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX workflows_name ON workflows (lower(name));

CREATE TABLE schedules (
    id              TEXT PRIMARY KEY,
    script_id       TEXT NOT NULL DEFAULT '',
    workflow_id     TEXT NOT NULL DEFAULT '',
    cron_expression TEXT NOT NULL,
    parameters      TEXT NOT NULL DEFAULT '{}',
    enabled         BOOLEAN NOT NULL,
    last_run_at     TIMESTAMPTZ,
    next_run_at     TIMESTAMPTZ,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedules_next ON schedules (next_run_at);

CREATE TABLE schedule_runs (
    schedule_id TEXT NOT NULL,
    due_at      TIMESTAMPTZ NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (schedule_id, due_at)
);

-- +goose Down
DROP TABLE schedule_runs;
DROP TABLE schedules;
DROP TABLE workflows;
ALTER TABLE script_executions DROP COLUMN workflow_run_id;
ALTER TABLE script_executions DROP COLUMN workflow_id;
