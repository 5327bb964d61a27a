-- +goose Up
-- WireGuard client configurations. They have no certificate, so serial
-- becomes optional: an OpenVPN configuration names its certificate, a
-- WireGuard one records the client's public key and tunnel address instead
-- (its private key is sealed in key_sealed like an OpenVPN client key).
--
-- wireguard_leases holds the tunnel addresses in use, one row per address
-- of a gateway's VPN subnet: the primary key makes an address unique per
-- gateway. A lease is deleted when its configuration is revoked and is free
-- for reuse once expires_at has passed, so an expired configuration's
-- address returns to the pool without a sweeper.
ALTER TABLE vpn_configs ALTER COLUMN serial DROP NOT NULL;
ALTER TABLE vpn_configs ADD COLUMN wg_public_key TEXT;
ALTER TABLE vpn_configs ADD COLUMN wg_address TEXT;
ALTER TABLE vpn_configs ADD CONSTRAINT vpn_configs_credential CHECK (
    (protocol = 'openvpn' AND serial IS NOT NULL AND wg_public_key IS NULL AND wg_address IS NULL)
    OR (protocol = 'wireguard' AND serial IS NULL AND wg_public_key IS NOT NULL AND wg_address IS NOT NULL));
CREATE UNIQUE INDEX vpn_configs_wg_key ON vpn_configs (wg_public_key) WHERE wg_public_key IS NOT NULL;
CREATE INDEX vpn_configs_gateway ON vpn_configs (gateway_id, protocol);

CREATE TABLE wireguard_leases (
    gateway_id TEXT NOT NULL,
    address    TEXT NOT NULL,
    config_id  TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (gateway_id, address)
);

-- +goose Down
DROP TABLE wireguard_leases;
DROP INDEX vpn_configs_gateway;
DROP INDEX vpn_configs_wg_key;
DELETE FROM vpn_configs WHERE protocol = 'wireguard';
ALTER TABLE vpn_configs DROP CONSTRAINT vpn_configs_credential;
ALTER TABLE vpn_configs DROP COLUMN wg_address;
ALTER TABLE vpn_configs DROP COLUMN wg_public_key;
ALTER TABLE vpn_configs ALTER COLUMN serial SET NOT NULL;
