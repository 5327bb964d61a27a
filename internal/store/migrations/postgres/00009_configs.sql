-- +goose Up
-- GateKey client configurations. Each names the client certificate issued
-- for it (pki_certificates.serial); the client's private key is kept only
-- sealed with AES-256-GCM under the server secret, bound to the row's id,
-- and erased when the configuration is revoked. Users, groups and gateways
-- are not foreign keys, like pki_certificates: the record outlives them.
CREATE TABLE vpn_configs (
    id            TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL,
    group_id      BIGINT NOT NULL,
    gateway_id    TEXT NOT NULL,
    protocol      TEXT NOT NULL CHECK (protocol IN ('openvpn', 'wireguard')),
    serial        TEXT NOT NULL UNIQUE,
    common_name   TEXT NOT NULL,
    key_sealed    BYTEA,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    downloads     INTEGER NOT NULL DEFAULT 0,
    last_download TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    CHECK (revoked_at IS NULL OR key_sealed IS NULL)
);
CREATE INDEX vpn_configs_group ON vpn_configs (group_id, created_at);
CREATE INDEX vpn_configs_user ON vpn_configs (user_id);

-- +goose Down
DROP TABLE vpn_configs;
