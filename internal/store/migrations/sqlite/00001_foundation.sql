-- +goose Up
CREATE TABLE groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX groups_name ON groups (lower(name));

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL,
    email           TEXT,
    full_name       TEXT NOT NULL DEFAULT '',
    role            TEXT NOT NULL CHECK (role IN ('SUPER_ADMIN', 'GROUP_ADMIN', 'USER')),
    group_id        INTEGER NOT NULL REFERENCES groups (id),
    password_hash   TEXT NOT NULL,
    mfa_secret      BLOB,
    mfa_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    last_login      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_group ON users (group_id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id   INTEGER,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    details    TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_group ON audit_log (group_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE users;
DROP TABLE groups;
