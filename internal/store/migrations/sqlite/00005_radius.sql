-- +goose Up
-- RADIUS clients (NAS). The shared secret is stored only sealed, bound to
-- the row id. An address (IP or CIDR, canonical text) names one client
-- server-wide: the server finds a client by the packet's source address.
CREATE TABLE radius_clients (
    id                            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id                      INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    name                          TEXT NOT NULL,
    address                       TEXT NOT NULL,
    secret                        BLOB NOT NULL,
    vendor                        TEXT NOT NULL,
    require_message_authenticator BOOLEAN NOT NULL DEFAULT TRUE,
    ssids                         TEXT NOT NULL DEFAULT '[]',
    created_at                    TIMESTAMP NOT NULL,
    updated_at                    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX radius_clients_address ON radius_clients (address);
CREATE INDEX radius_clients_group ON radius_clients (group_id, id);

-- Online sessions as accounting reports them, written in batches.
CREATE TABLE radius_sessions (
    client_id      INTEGER NOT NULL REFERENCES radius_clients (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL,
    group_id       INTEGER NOT NULL,
    mac            TEXT NOT NULL DEFAULT '',
    username       TEXT NOT NULL DEFAULT '',
    nas_address    TEXT NOT NULL DEFAULT '',
    called_station TEXT NOT NULL DEFAULT '',
    framed_ip      TEXT NOT NULL DEFAULT '',
    started_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    input_octets   BIGINT NOT NULL DEFAULT 0,
    output_octets  BIGINT NOT NULL DEFAULT 0,
    session_time   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, session_id)
);
CREATE INDEX radius_sessions_group ON radius_sessions (group_id, updated_at);

-- PMKs per (PSK, SSID), sealed with a fingerprint of the passphrase they
-- were derived from, so restarts do not run PBKDF2 again.
CREATE TABLE radius_pmks (
    psk_id   INTEGER NOT NULL REFERENCES psks (id) ON DELETE CASCADE,
    ssid     TEXT NOT NULL,
    group_id INTEGER NOT NULL,
    sealed   BLOB NOT NULL,
    PRIMARY KEY (psk_id, ssid)
);

-- +goose Down
DROP TABLE radius_pmks;
DROP TABLE radius_sessions;
DROP TABLE radius_clients;
