-- +goose Up
-- CA rotation: a group may hold several CAs at once. "active" now means in
-- service: the authority keeps its sealed key, signs its own CRL and is
-- trusted (unless a group distrusts it, below). "issuing" marks the one CA
-- per group that signs the group's new certificates; group 0 is the
-- server-wide CA, the issuer of every group that has none of its own (and
-- of netkeep's own HTTPS and federation certificates). activated_at is the
-- first time an authority issued, which tells a pending CA (rotated in,
-- not yet activated) from a retired one.
ALTER TABLE pki_authorities ADD COLUMN group_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pki_authorities ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE pki_authorities ADD COLUMN issuing BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pki_authorities ADD COLUMN activated_at TIMESTAMPTZ;
UPDATE pki_authorities SET issuing = active, activated_at = created_at;
DROP INDEX pki_authorities_active;
CREATE UNIQUE INDEX pki_authorities_issuing ON pki_authorities (group_id) WHERE issuing;
CREATE INDEX pki_authorities_group ON pki_authorities (group_id, id);

-- A group's revocation of a CA it trusted. A group's own CA also leaves
-- service when revoked; the server-wide CA stays in service for the other
-- groups, so this row is what removes it from the revoking group's trust.
CREATE TABLE pki_distrust (
    group_id     BIGINT NOT NULL,
    authority_id BIGINT NOT NULL REFERENCES pki_authorities (id),
    revoked_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, authority_id)
);

-- +goose Down
-- Only the server-wide issuer survives as the one active CA; group CAs keep
-- their rows (certificates refer to them) but lose their keys.
DROP TABLE pki_distrust;
DELETE FROM pki_crls WHERE authority_id IN (SELECT id FROM pki_authorities WHERE NOT (issuing AND group_id = 0));
UPDATE pki_authorities SET active = FALSE, key_sealed = NULL, retired_at = COALESCE(retired_at, CURRENT_TIMESTAMP)
    WHERE active AND NOT (issuing AND group_id = 0);
DROP INDEX pki_authorities_group;
DROP INDEX pki_authorities_issuing;
CREATE UNIQUE INDEX pki_authorities_active ON pki_authorities (active) WHERE active;
ALTER TABLE pki_authorities DROP COLUMN activated_at;
ALTER TABLE pki_authorities DROP COLUMN issuing;
ALTER TABLE pki_authorities DROP COLUMN name;
ALTER TABLE pki_authorities DROP COLUMN group_id;
