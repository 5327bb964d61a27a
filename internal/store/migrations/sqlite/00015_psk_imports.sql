-- +goose Up
-- Large CSV imports are staged: their validated rows are written here in
-- short transactions while the upload is read, then moved into psks and
-- endpoints by one final transaction, so the import stays all or nothing
-- without holding the writer for the whole upload. Staged rows are never
-- read by anything but that final move; an import that died (a crash, a
-- lost connection) leaves rows here that the PSK sweep deletes once the
-- import has not been touched for an hour. No foreign keys: a staged row
-- belongs to nothing until it is moved, and a group deleted meanwhile makes
-- the move fail.
CREATE TABLE psk_imports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id   INTEGER NOT NULL,
    staged     INTEGER NOT NULL DEFAULT 0,
    started_at TIMESTAMP NOT NULL,
    touched_at TIMESTAMP NOT NULL
);

CREATE TABLE psk_import_rows (
    import_id   INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    psk_id      TEXT NOT NULL,
    passphrase  BLOB NOT NULL,
    seal_id     TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    vlan_id     INTEGER,
    enabled     BOOLEAN NOT NULL,
    expires_at  TIMESTAMP,
    created_by  INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE psk_import_macs (
    import_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    pos       INTEGER NOT NULL,
    mac       TEXT NOT NULL,
    PRIMARY KEY (import_id, seq, pos)
);

-- +goose Down
DROP TABLE psk_import_macs;
DROP TABLE psk_import_rows;
DROP TABLE psk_imports;
