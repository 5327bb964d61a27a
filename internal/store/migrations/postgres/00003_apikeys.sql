-- +goose Up
-- API keys. Only the SHA-256 of the secret is stored; a key goes with its
-- creator (and with its group).
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    hash            BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    scopes          TEXT NOT NULL,
    group_id        BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at      TIMESTAMPTZ,
    revoked_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    rate_per_hour   INTEGER NOT NULL,
    rate_per_minute INTEGER NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_group ON api_keys (group_id, created_at);
CREATE INDEX api_keys_creator ON api_keys (created_by);

-- +goose Down
DROP TABLE api_keys;
