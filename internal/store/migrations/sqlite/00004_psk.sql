-- +goose Up
-- Identity PSKs. The passphrase is stored only sealed (AES-256-GCM under the
-- server secret, bound to the row's random seal_id). psk_id is unique within
-- a group. expired_notified_at is set once the expiry sweep reported the
-- PSK's expiry.
CREATE TABLE psks (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id            INTEGER NOT NULL REFERENCES groups (id),
    psk_id              TEXT NOT NULL,
    passphrase          BLOB NOT NULL,
    seal_id             TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    vlan_id             INTEGER CHECK (vlan_id BETWEEN 1 AND 4094),
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at          TIMESTAMP,
    expired_notified_at TIMESTAMP,
    created_by          INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX psks_group_name ON psks (group_id, psk_id);
CREATE INDEX psks_group ON psks (group_id, id);
CREATE INDEX psks_unswept ON psks (expires_at) WHERE expires_at IS NOT NULL AND expired_notified_at IS NULL;

-- How many PSKs each group holds, kept by the store in the transaction that
-- inserts or deletes them, so an unfiltered listing's total is one lookup
-- rather than a count over the group's rows. A cache: no foreign key.
CREATE TABLE psk_counts (
    group_id INTEGER PRIMARY KEY,
    n        BIGINT NOT NULL
);

-- Stations bound to a PSK of their group. One MAC (aa:bb:cc:dd:ee:ff) once
-- per group.
CREATE TABLE endpoints (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER NOT NULL REFERENCES groups (id),
    mac         TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    psk_id      INTEGER NOT NULL REFERENCES psks (id) ON DELETE CASCADE,
    vlan_id     INTEGER CHECK (vlan_id BETWEEN 1 AND 4094),
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    last_seen   TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX endpoints_group_mac ON endpoints (group_id, mac);
CREATE INDEX endpoints_group ON endpoints (group_id, id);
CREATE INDEX endpoints_psk ON endpoints (psk_id, id);

-- +goose Down
DROP TABLE endpoints;
DROP TABLE psk_counts;
DROP TABLE psks;
