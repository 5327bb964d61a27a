-- +goose Up
-- VPN gateways (GateKey). Only the SHA-256 of a gateway's token is stored;
-- its OpenVPN tls-crypt key is sealed (AES-256-GCM under the server secret,
-- bound to the gateway id). cert_* describe the server certificate issued at
-- the last provisioning, so a heartbeat can say when to reprovision.
-- config_version grows with every change to what the gateway enforces.
-- wg_public_key is a WireGuard gateway's public key, reported by its agent.
CREATE TABLE gateways (
    id               TEXT PRIMARY KEY,
    group_id         BIGINT NOT NULL REFERENCES groups (id),
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    hostname         TEXT NOT NULL,
    port             INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    protocol         TEXT NOT NULL CHECK (protocol IN ('udp', 'tcp')),
    vpn_type         TEXT NOT NULL CHECK (vpn_type IN ('openvpn', 'wireguard')),
    vpn_subnet       TEXT NOT NULL,
    config_version   BIGINT NOT NULL,
    token_hash       BYTEA NOT NULL CHECK (octet_length(token_hash) = 32),
    tls_crypt_sealed BYTEA NOT NULL,
    cert_serial      TEXT NOT NULL DEFAULT '',
    cert_not_after   TIMESTAMPTZ,
    cert_hostname    TEXT NOT NULL DEFAULT '',
    ca_fingerprint   TEXT NOT NULL DEFAULT '',
    wg_public_key    TEXT NOT NULL DEFAULT '',
    last_heartbeat   TIMESTAMPTZ,
    agent_version    TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX gateways_name ON gateways (group_id, name);
CREATE UNIQUE INDEX gateways_token ON gateways (token_hash);

-- Networks: named CIDRs behind gateways of their group (many to many).
CREATE TABLE vpn_networks (
    id          TEXT PRIMARY KEY,
    group_id    BIGINT NOT NULL REFERENCES groups (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    cidr        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX vpn_networks_name ON vpn_networks (group_id, name);

CREATE TABLE vpn_network_gateways (
    network_id TEXT NOT NULL REFERENCES vpn_networks (id) ON DELETE CASCADE,
    gateway_id TEXT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    PRIMARY KEY (network_id, gateway_id)
);
CREATE INDEX vpn_network_gateways_gateway ON vpn_network_gateways (gateway_id);

-- Access rules: which users and groups may reach a destination inside a
-- network. A network with rules cannot be deleted; a deleted user or group
-- drops out of every rule. ports is a list like "80,443,8000-8100" ('' =
-- every port).
CREATE TABLE access_rules (
    id          TEXT PRIMARY KEY,
    group_id    BIGINT NOT NULL REFERENCES groups (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    network_id  TEXT NOT NULL REFERENCES vpn_networks (id),
    destination TEXT NOT NULL,
    protocol    TEXT NOT NULL CHECK (protocol IN ('any', 'tcp', 'udp', 'icmp')),
    ports       TEXT NOT NULL DEFAULT '',
    enabled     BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_rules_group ON access_rules (group_id);
CREATE INDEX access_rules_network ON access_rules (network_id);

CREATE TABLE access_rule_users (
    rule_id TEXT NOT NULL REFERENCES access_rules (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, user_id)
);
CREATE INDEX access_rule_users_user ON access_rule_users (user_id);

CREATE TABLE access_rule_groups (
    rule_id  TEXT NOT NULL REFERENCES access_rules (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, group_id)
);
CREATE INDEX access_rule_groups_group ON access_rule_groups (group_id);

-- Mesh hubs: a gateway linking sites (spokes: gateways or networks of the
-- group). A gateway that is a hub cannot be deleted; spokes are removed with
-- the gateway or network they name (in code: the reference is polymorphic).
CREATE TABLE mesh_hubs (
    id          TEXT PRIMARY KEY,
    group_id    BIGINT NOT NULL REFERENCES groups (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    gateway_id  TEXT NOT NULL REFERENCES gateways (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX mesh_hubs_name ON mesh_hubs (group_id, name);
CREATE INDEX mesh_hubs_gateway ON mesh_hubs (gateway_id);

CREATE TABLE mesh_hub_spokes (
    hub_id   TEXT NOT NULL REFERENCES mesh_hubs (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('gateway', 'network')),
    spoke_id TEXT NOT NULL,
    PRIMARY KEY (hub_id, kind, spoke_id)
);
CREATE INDEX mesh_hub_spokes_spoke ON mesh_hub_spokes (kind, spoke_id);

-- VPN sessions reported by gateways. user_id is not a foreign key: the
-- history outlives the user. At most one open session per certificate and
-- gateway.
CREATE TABLE vpn_sessions (
    id              TEXT PRIMARY KEY,
    gateway_id      TEXT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    group_id        BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    username        TEXT NOT NULL,
    common_name     TEXT NOT NULL,
    serial          TEXT NOT NULL,
    client_ip       TEXT NOT NULL DEFAULT '',
    vpn_address     TEXT NOT NULL DEFAULT '',
    connected_at    TIMESTAMPTZ NOT NULL,
    disconnected_at TIMESTAMPTZ,
    bytes_in        BIGINT NOT NULL DEFAULT 0,
    bytes_out       BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX vpn_sessions_open ON vpn_sessions (gateway_id, serial) WHERE disconnected_at IS NULL;
CREATE INDEX vpn_sessions_group ON vpn_sessions (group_id, connected_at);

-- +goose Down
DROP TABLE vpn_sessions;
DROP TABLE mesh_hub_spokes;
DROP TABLE mesh_hubs;
DROP TABLE access_rule_groups;
DROP TABLE access_rule_users;
DROP TABLE access_rules;
DROP TABLE vpn_network_gateways;
DROP TABLE vpn_networks;
DROP TABLE gateways;
