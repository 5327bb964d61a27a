-- +goose Up
-- Scripts registered from the scripts directory (server-wide: they run on
-- the host), and their executions. parameters are JSON. An execution keeps
-- its script's id after the script is deleted: history, not a reference.
CREATE TABLE scripts (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL DEFAULT '',
    script_path     TEXT NOT NULL,
    script_type     TEXT NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    parameters      TEXT NOT NULL DEFAULT '[]',
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX scripts_name ON scripts (lower(name));

CREATE TABLE script_executions (
    id            TEXT PRIMARY KEY,
    script_id     TEXT NOT NULL,
    status        TEXT NOT NULL,
    is_dry_run    BOOLEAN NOT NULL,
    triggered_by  TEXT NOT NULL,
    parameters    TEXT NOT NULL DEFAULT '{}',
    exit_code     INTEGER,
    output        TEXT NOT NULL DEFAULT '',
    truncated     BOOLEAN NOT NULL DEFAULT FALSE,
    error_message TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    started_at    TIMESTAMPTZ,
    ended_at      TIMESTAMPTZ
);
CREATE INDEX script_executions_script ON script_executions (script_id, created_at);
CREATE INDEX script_executions_created ON script_executions (created_at);

-- +goose Down
DROP TABLE script_executions;
DROP TABLE scripts;
