-- +goose Up
-- WireGuard client configurations. They have no certificate, so serial
-- becomes optional: an OpenVPN configuration names its certificate, a
-- WireGuard one records the client's public key and tunnel address instead
-- (its private key is sealed in key_sealed like an OpenVPN client key).
-- SQLite cannot drop a NOT NULL constraint, so the table is rebuilt.
--
-- wireguard_leases holds the tunnel addresses in use, one row per address
-- of a gateway's VPN subnet: the primary key makes an address unique per
-- gateway. A lease is deleted when its configuration is revoked and is free
-- for reuse once expires_at has passed, so an expired configuration's
-- address returns to the pool without a sweeper.
CREATE TABLE vpn_configs_new (
    id            TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL,
    group_id      BIGINT NOT NULL,
    gateway_id    TEXT NOT NULL,
    protocol      TEXT NOT NULL CHECK (protocol IN ('openvpn', 'wireguard')),
    serial        TEXT UNIQUE,
    common_name   TEXT NOT NULL,
    key_sealed    BLOB,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    downloads     INTEGER NOT NULL DEFAULT 0,
    last_download TIMESTAMP,
    revoked_at    TIMESTAMP,
    wg_public_key TEXT,
    wg_address    TEXT,
    CHECK (revoked_at IS NULL OR key_sealed IS NULL),
    CONSTRAINT vpn_configs_credential CHECK (
        (protocol = 'openvpn' AND serial IS NOT NULL AND wg_public_key IS NULL AND wg_address IS NULL)
        OR (protocol = 'wireguard' AND serial IS NULL AND wg_public_key IS NOT NULL AND wg_address IS NOT NULL))
);
INSERT INTO vpn_configs_new (id, user_id, group_id, gateway_id, protocol, serial, common_name, key_sealed,
    created_at, expires_at, downloads, last_download, revoked_at)
SELECT id, user_id, group_id, gateway_id, protocol, serial, common_name, key_sealed,
    created_at, expires_at, downloads, last_download, revoked_at FROM vpn_configs;
DROP TABLE vpn_configs;
ALTER TABLE vpn_configs_new RENAME TO vpn_configs;
CREATE INDEX vpn_configs_group ON vpn_configs (group_id, created_at);
CREATE INDEX vpn_configs_user ON vpn_configs (user_id);
CREATE UNIQUE INDEX vpn_configs_wg_key ON vpn_configs (wg_public_key) WHERE wg_public_key IS NOT NULL;
CREATE INDEX vpn_configs_gateway ON vpn_configs (gateway_id, protocol);

CREATE TABLE wireguard_leases (
    gateway_id TEXT NOT NULL,
    address    TEXT NOT NULL,
    config_id  TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (gateway_id, address)
);

-- +goose Down
DROP TABLE wireguard_leases;
DELETE FROM vpn_configs WHERE protocol = 'wireguard';
CREATE TABLE vpn_configs_old (
    id            TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL,
    group_id      BIGINT NOT NULL,
    gateway_id    TEXT NOT NULL,
    protocol      TEXT NOT NULL CHECK (protocol IN ('openvpn', 'wireguard')),
    serial        TEXT NOT NULL UNIQUE,
    common_name   TEXT NOT NULL,
    key_sealed    BLOB,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    downloads     INTEGER NOT NULL DEFAULT 0,
    last_download TIMESTAMP,
    revoked_at    TIMESTAMP,
    CHECK (revoked_at IS NULL OR key_sealed IS NULL)
);
INSERT INTO vpn_configs_old SELECT id, user_id, group_id, gateway_id, protocol, serial, common_name, key_sealed,
    created_at, expires_at, downloads, last_download, revoked_at FROM vpn_configs;
DROP TABLE vpn_configs;
ALTER TABLE vpn_configs_old RENAME TO vpn_configs;
CREATE INDEX vpn_configs_group ON vpn_configs (group_id, created_at);
CREATE INDEX vpn_configs_user ON vpn_configs (user_id);
