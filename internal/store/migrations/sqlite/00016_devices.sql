-- +goose Up
-- Nekzus device pairing. A pairing code (shown as a QR code) is stored only
-- as its SHA-256; redeeming it once sets the SHA-256 of the bootstrap token
-- it hands out, which pairs one device once. failures counts failed
-- redemptions while the code is live: at 5 it is locked.
CREATE TABLE pairing_codes (
    code_hash          BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
    group_id           INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by         INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at         TIMESTAMP NOT NULL,
    expires_at         TIMESTAMP NOT NULL,
    failures           INTEGER NOT NULL DEFAULT 0,
    redeemed_at        TIMESTAMP,
    bootstrap_hash     BLOB UNIQUE,
    bootstrap_expires  TIMESTAMP,
    bootstrap_used_at  TIMESTAMP
);
CREATE INDEX pairing_codes_expires ON pairing_codes (expires_at);

-- Paired devices. device_id is the id the device chose; epoch changes on
-- every pairing, and only tokens naming the current epoch of an unrevoked
-- device verify. The push token is sealed.
CREATE TABLE devices (
    device_id    TEXT PRIMARY KEY,
    group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    model        TEXT NOT NULL,
    platform     TEXT NOT NULL,
    push_token   BLOB,
    scopes       TEXT NOT NULL,
    epoch        TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    paired_at    TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX devices_group ON devices (group_id, created_at);

-- Webview cookies a device's proxied apps set, one row per cookie; the
-- value is sealed and never leaves the server but through the proxy.
CREATE TABLE device_cookies (
    device_id   TEXT NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    app_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    domain      TEXT NOT NULL,
    value       BLOB NOT NULL,
    expires_at  TIMESTAMP,
    secure      BOOLEAN NOT NULL,
    http_only   BOOLEAN NOT NULL,
    same_site   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (device_id, app_id, name, path)
);

-- +goose Down
DROP TABLE device_cookies;
DROP TABLE devices;
DROP TABLE pairing_codes;
