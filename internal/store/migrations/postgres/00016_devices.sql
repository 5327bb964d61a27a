-- +goose Up
-- Nekzus device pairing. A pairing code (shown as a QR code) is stored only
-- as its SHA-256; redeeming it once sets the SHA-256 of the bootstrap token
-- it hands out, which pairs one device once. failures counts failed
-- redemptions while the code is live: at 5 it is locked.
CREATE TABLE pairing_codes (
    code_hash          BYTEA PRIMARY KEY CHECK (octet_length(code_hash) = 32),
    group_id           BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_by         BIGINT REFERENCES users (id) ON DELETE CASCADE,
    created_at         TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    failures           INTEGER NOT NULL DEFAULT 0,
    redeemed_at        TIMESTAMPTZ,
    bootstrap_hash     BYTEA UNIQUE,
    bootstrap_expires  TIMESTAMPTZ,
    bootstrap_used_at  TIMESTAMPTZ
);
CREATE INDEX pairing_codes_expires ON pairing_codes (expires_at);

-- Paired devices. device_id is the id the device chose; epoch changes on
-- every pairing, and only tokens naming the current epoch of an unrevoked
-- device verify. The push token is sealed.
CREATE TABLE devices (
    device_id    TEXT PRIMARY KEY,
    group_id     BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id      BIGINT REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    model        TEXT NOT NULL,
    platform     TEXT NOT NULL,
    push_token   BYTEA,
    scopes       TEXT NOT NULL,
    epoch        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    paired_at    TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
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
    value       BYTEA NOT NULL,
    expires_at  TIMESTAMPTZ,
    secure      BOOLEAN NOT NULL,
    http_only   BOOLEAN NOT NULL,
    same_site   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (device_id, app_id, name, path)
);

-- +goose Down
DROP TABLE device_cookies;
DROP TABLE devices;
DROP TABLE pairing_codes;
