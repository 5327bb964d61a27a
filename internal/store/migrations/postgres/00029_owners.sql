-- +goose Up
-- Who a mesh node belongs to, for offboarding: the user who enrolled it (the
-- creator of the access key it joined with, or the user whose credential
-- created it). owner_id on access keys is that creator's user id, kept
-- beside created_by (an audit actor, which for an API key names the key,
-- not its user). 0: nobody (the server's own node, a manual sign-up, the
-- master key, nodes enrolled before owners were recorded). No foreign key:
-- a deleted user's nodes keep the number for the audit trail.
ALTER TABLE mesh_access_keys ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mesh_nodes ADD COLUMN owner_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX mesh_nodes_owner ON mesh_nodes (owner_id) WHERE owner_id <> 0;

-- +goose Down
DROP INDEX mesh_nodes_owner;
ALTER TABLE mesh_nodes DROP COLUMN owner_id;
ALTER TABLE mesh_access_keys DROP COLUMN owner_id;
