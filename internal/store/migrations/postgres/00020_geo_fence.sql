-- +goose Up
-- Geo-fencing: the server-wide policy (one row, id 1; absent until an
-- administrator sets one) and groups' own policies, which replace it for
-- their users. countries is a comma-separated list of ISO 3166-1 alpha-2
-- codes, sorted; mode and unknown_country are 'allow' or 'deny'.
CREATE TABLE geo_fence (
    id              SMALLINT PRIMARY KEY CHECK (id = 1),
    enabled         BOOLEAN NOT NULL,
    mode            TEXT NOT NULL,
    countries       TEXT NOT NULL,
    unknown_country TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE geo_fence_groups (
    group_id        BIGINT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    enabled         BOOLEAN NOT NULL,
    mode            TEXT NOT NULL,
    countries       TEXT NOT NULL,
    unknown_country TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Which agent serves a gateway: netkeep's own setup ('netkeep': tls-crypt
-- profiles) or GateKey's gatekey-gateway ('gatekey': tls-auth and
-- auth-user-pass profiles, as its OpenVPN server configuration expects),
-- recorded from how the agent presents its token.
ALTER TABLE gateways ADD COLUMN agent_kind TEXT NOT NULL DEFAULT 'netkeep';

-- +goose Down
ALTER TABLE gateways DROP COLUMN agent_kind;
DROP TABLE geo_fence_groups;
DROP TABLE geo_fence;
