-- +goose Up
-- Services deployed from the toolbox (server-wide: they run on the host's
-- container engine). env_vars is JSON, secret values masked; containers
-- is a JSON list of engine ids. A name is deployed once at a time.
CREATE TABLE toolbox_deployments (
    id          TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    env_vars    TEXT NOT NULL DEFAULT '{}',
    custom_port INTEGER NOT NULL DEFAULT 0,
    auto_start  BOOLEAN NOT NULL,
    containers  TEXT NOT NULL DEFAULT '[]',
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX toolbox_deployments_name ON toolbox_deployments (name);
CREATE INDEX toolbox_deployments_status ON toolbox_deployments (status, created_at);

-- +goose Down
DROP TABLE toolbox_deployments;
