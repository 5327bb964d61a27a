-- +goose Up
-- Large CSV imports are written in short transactions while the upload is
-- read, into psks and endpoints themselves but marked pending (the import's
-- id), and become visible at once when one final transaction sets their
-- import's visible flag. Until then every read but the uniqueness checks
-- passes them over: a row is visible when pending is NULL or names a visible
-- import. After that commit, pending is cleared in batches and the import's
-- row deleted. The rows of an import that died before it became visible (a
-- crash, a lost connection) are deleted by the PSK sweep. psk_imports
-- counts what an import wrote, so that making it visible and counting its
-- PSKs costs the same for 10 rows as for a million.
CREATE TABLE psk_imports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id   INTEGER NOT NULL,
    visible    BOOLEAN NOT NULL DEFAULT FALSE,
    psks       INTEGER NOT NULL DEFAULT 0,
    endpoints  INTEGER NOT NULL DEFAULT 0,
    first_id   INTEGER,
    last_id    INTEGER,
    started_at TIMESTAMP NOT NULL,
    touched_at TIMESTAMP NOT NULL
);

ALTER TABLE psks ADD COLUMN pending INTEGER;
ALTER TABLE endpoints ADD COLUMN pending INTEGER;
CREATE INDEX psks_pending ON psks (pending) WHERE pending IS NOT NULL;
CREATE INDEX endpoints_pending ON endpoints (pending) WHERE pending IS NOT NULL;

-- +goose Down
DROP INDEX endpoints_pending;
DROP INDEX psks_pending;
ALTER TABLE endpoints DROP COLUMN pending;
ALTER TABLE psks DROP COLUMN pending;
DROP TABLE psk_imports;
