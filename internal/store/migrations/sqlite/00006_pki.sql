-- +goose Up
-- The internal CA. At most one authority is active: the partial unique index
-- makes a second impossible even if replicas race on first start. A replaced
-- authority stays (its certificates refer to it) but loses its key. The key
-- is PKCS #8, sealed with AES-256-GCM under the server secret.
CREATE TABLE pki_authorities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cert_der    BLOB NOT NULL,
    key_sealed  BLOB,
    fingerprint TEXT NOT NULL,
    origin      TEXT NOT NULL CHECK (origin IN ('generated', 'imported')),
    active      BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    retired_at  TIMESTAMP,
    CHECK (active = (key_sealed IS NOT NULL))
);
CREATE UNIQUE INDEX pki_authorities_active ON pki_authorities (active) WHERE active;

-- Every issued certificate, never its private key. The serial is uppercase
-- hex as openssl prints it. Users, groups and gateways are not foreign keys:
-- a revoked certificate must stay on the CRL after its holder is deleted.
CREATE TABLE pki_certificates (
    serial        TEXT PRIMARY KEY,
    authority_id  INTEGER NOT NULL REFERENCES pki_authorities (id),
    kind          TEXT NOT NULL CHECK (kind IN ('client', 'server')),
    common_name   TEXT NOT NULL,
    user_id       BIGINT,
    gateway_id    TEXT,
    group_id      BIGINT NOT NULL,
    not_before    TIMESTAMP NOT NULL,
    not_after     TIMESTAMP NOT NULL,
    der           BLOB NOT NULL,
    revoked_at    TIMESTAMP,
    revoke_reason TEXT,
    created_at    TIMESTAMP NOT NULL,
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX pki_certificates_authority ON pki_certificates (authority_id);
-- Covers the CRL query, so regenerating reads the index, not the rows.
CREATE INDEX pki_certificates_revoked ON pki_certificates (authority_id, serial, not_after, revoked_at, revoke_reason)
    WHERE revoked_at IS NOT NULL;
CREATE INDEX pki_certificates_user ON pki_certificates (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX pki_certificates_gateway ON pki_certificates (gateway_id) WHERE gateway_id IS NOT NULL;

-- One row. crl_number is the last CRL number handed out (it never goes back,
-- across authorities, restarts and replicas); revision counts changes to the
-- revoked set, so a stored CRL older than it is known to be stale.
CREATE TABLE pki_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    crl_number BIGINT NOT NULL,
    revision   BIGINT NOT NULL
);
INSERT INTO pki_state (id, crl_number, revision) VALUES (1, 0, 0);

-- The latest signed CRL of each authority, so every replica serves the same
-- bytes under the same number.
CREATE TABLE pki_crls (
    authority_id INTEGER PRIMARY KEY REFERENCES pki_authorities (id),
    number       BIGINT NOT NULL,
    revision     BIGINT NOT NULL,
    entries      INTEGER NOT NULL,
    der          BLOB NOT NULL,
    this_update  TIMESTAMP NOT NULL,
    next_update  TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE pki_crls;
DROP TABLE pki_state;
DROP TABLE pki_certificates;
DROP TABLE pki_authorities;
