-- +goose Up
-- WireGuard mesh networks. netid is unique across the server (Netmaker's API
-- names networks by it alone). revision counts changes to the settings so
-- replicas apply a change only over an older one; nodes_modified_at is
-- raised by every node change without counting a revision.
CREATE TABLE mesh_networks (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES groups (id),
    netid               TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    address_range       TEXT NOT NULL,
    address_range6      TEXT NOT NULL DEFAULT '',
    default_listen_port INTEGER NOT NULL,
    default_keepalive   INTEGER NOT NULL,
    default_interface   TEXT NOT NULL,
    checkin_interval    INTEGER NOT NULL,
    allow_manual_signup BOOLEAN NOT NULL,
    require_approval    BOOLEAN NOT NULL,
    key_update_at       TIMESTAMP NOT NULL,
    nodes_modified_at   TIMESTAMP NOT NULL,
    modified_at         TIMESTAMP NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    revision            BIGINT NOT NULL
);
CREATE UNIQUE INDEX mesh_networks_netid ON mesh_networks (netid);
CREATE INDEX mesh_networks_group ON mesh_networks (group_id);

-- Access (enrollment) keys: the value is stored sealed (AES-256-GCM under the
-- server secret, bound to its hash) for listing, and as SHA-256 for lookup.
-- uses counts the joins left; a join decrements it in its transaction.
CREATE TABLE mesh_access_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id   INTEGER NOT NULL REFERENCES mesh_networks (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         BLOB NOT NULL CHECK (length(hash) = 32),
    value_sealed BLOB NOT NULL,
    uses         INTEGER NOT NULL CHECK (uses >= 0),
    expires_at   TIMESTAMP,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mesh_access_keys_name ON mesh_access_keys (network_id, name);
CREATE UNIQUE INDEX mesh_access_keys_hash ON mesh_access_keys (network_id, hash);

-- Nodes. No private key is ever stored, except the server's own (server_key,
-- sealed) for networks the server joined. A network with nodes cannot be
-- deleted. Addresses, MACs and public keys are unique per network; address6
-- is NULL for networks without an IPv6 range. egress_ranges is a
-- space-separated list of CIDRs (empty: not a gateway).
CREATE TABLE mesh_nodes (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id           INTEGER NOT NULL REFERENCES mesh_networks (id),
    mac_address          TEXT NOT NULL,
    name                 TEXT NOT NULL,
    public_key           TEXT NOT NULL,
    endpoint             TEXT NOT NULL DEFAULT '',
    listen_port          INTEGER NOT NULL,
    local_address        TEXT NOT NULL DEFAULT '',
    address              TEXT NOT NULL,
    address6             TEXT,
    persistent_keepalive INTEGER NOT NULL,
    interface            TEXT NOT NULL,
    pending              BOOLEAN NOT NULL,
    egress_ranges        TEXT NOT NULL DEFAULT '',
    egress_interface     TEXT NOT NULL DEFAULT '',
    is_server            BOOLEAN NOT NULL DEFAULT FALSE,
    os                   TEXT NOT NULL DEFAULT '',
    password_hash        TEXT NOT NULL DEFAULT '',
    server_key           BLOB,
    key_update_at        TIMESTAMP NOT NULL,
    last_checkin         TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    modified_at          TIMESTAMP NOT NULL,
    revision             BIGINT NOT NULL
);
CREATE UNIQUE INDEX mesh_nodes_mac ON mesh_nodes (network_id, mac_address);
CREATE UNIQUE INDEX mesh_nodes_public_key ON mesh_nodes (network_id, public_key);
CREATE UNIQUE INDEX mesh_nodes_address ON mesh_nodes (network_id, address);
CREATE UNIQUE INDEX mesh_nodes_address6 ON mesh_nodes (network_id, address6);

-- +goose Down
DROP TABLE mesh_nodes;
DROP TABLE mesh_access_keys;
DROP TABLE mesh_networks;
