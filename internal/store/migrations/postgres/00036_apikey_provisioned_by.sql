-- +goose Up
-- Who provisioned a key for its user: the administrator's user id when an
-- administrator created the key on the user's behalf (GateKey's per-user
-- keys), 0 when the user created it. No foreign key: the number outlives
-- a deleted administrator, for the audit trail. Keys provisioned before
-- this take the administrator from their creation's audit entry.
ALTER TABLE api_keys ADD COLUMN provisioned_by BIGINT NOT NULL DEFAULT 0;
UPDATE api_keys SET provisioned_by = COALESCE((
    SELECT CAST(CAST(a.details AS jsonb) ->> 'provisioned_by' AS BIGINT) FROM audit_log a
    WHERE a.action = 'apikey.create' AND a.target = 'apikey:' || api_keys.id
    ORDER BY a.id LIMIT 1), 0);

-- +goose Down
ALTER TABLE api_keys DROP COLUMN provisioned_by;
