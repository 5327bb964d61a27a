-- +goose Up
-- The Nekzus app catalog. An app's id is its proxy path (/apps/{id}/), so
-- ids are unique across groups. Each app has exactly one route. source
-- says where it came from (api, file, discovery): the route file owns the
-- apps it made. tags, endpoints and scopes are JSON arrays / objects.
CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    group_id   BIGINT NOT NULL REFERENCES groups (id),
    owner_id   BIGINT,
    name       TEXT NOT NULL,
    icon       TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',
    endpoints  TEXT NOT NULL DEFAULT '{}',
    source     TEXT NOT NULL CHECK (source IN ('api', 'file', 'discovery')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX apps_group ON apps (group_id, id);

CREATE TABLE app_routes (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL UNIQUE REFERENCES apps (id) ON DELETE CASCADE,
    upstream     TEXT NOT NULL,
    strip_prefix BOOLEAN NOT NULL,
    websocket    BOOLEAN NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]',
    auth         TEXT NOT NULL CHECK (auth IN ('token', 'local', 'public')),
    timeout_ms   BIGINT NOT NULL CHECK (timeout_ms > 0),
    cache        BOOLEAN NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DISABLED')),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Favicons fetched from upstreams once; an empty data records "none".
CREATE TABLE app_icons (
    app_id       TEXT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL DEFAULT '',
    data         BYTEA NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL
);

-- Discovery proposals, one per (source, source_key): a container keeps its
-- proposal, and its dismissal, across restarts.
CREATE TABLE discovery_proposals (
    id              TEXT PRIMARY KEY,
    group_id        BIGINT NOT NULL REFERENCES groups (id),
    source          TEXT NOT NULL,
    source_key      TEXT NOT NULL,
    scheme          TEXT NOT NULL,
    host            TEXT NOT NULL,
    port            INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    confidence      DOUBLE PRECISION NOT NULL,
    suggested_app   TEXT NOT NULL,
    suggested_route TEXT NOT NULL,
    ports           TEXT NOT NULL DEFAULT '[]',
    tags            TEXT NOT NULL DEFAULT '[]',
    security_notes  TEXT NOT NULL DEFAULT '[]',
    state           TEXT NOT NULL CHECK (state IN ('pending', 'dismissed', 'approved')),
    last_seen       TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX discovery_proposals_key ON discovery_proposals (source, source_key);
CREATE INDEX discovery_proposals_group ON discovery_proposals (group_id, state);

-- +goose Down
DROP TABLE discovery_proposals;
DROP TABLE app_icons;
DROP TABLE app_routes;
DROP TABLE apps;
