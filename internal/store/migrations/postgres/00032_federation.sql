-- +goose Up
-- Federation: one-time join tokens (only the SHA-256 of their secret),
-- the peers this instance trusts (each pinned to its CA's SHA-256
-- fingerprint) and the apps each peer shares, as last synced. Remote apps
-- are a cache of the peer's catalog: they name their peer without a
-- foreign key so a restore of the peers alone never fails on them, and
-- every read joins them to the peers that still exist.
CREATE TABLE federation_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash BYTEA NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    used_by     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE federation_peers (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    url            TEXT NOT NULL,
    ca_fingerprint TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    last_error     TEXT NOT NULL DEFAULT '',
    last_sync_at   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE federation_apps (
    peer_id    TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    name       TEXT NOT NULL,
    icon       TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',
    auth       TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '[]',
    websocket  BOOLEAN NOT NULL,
    health     TEXT NOT NULL,
    synced_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (peer_id, app_id)
);

-- +goose Down
DROP TABLE federation_apps;
DROP TABLE federation_peers;
DROP TABLE federation_tokens;
