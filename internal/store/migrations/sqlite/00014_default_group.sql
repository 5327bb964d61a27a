-- +goose Up
-- The default group exists from the first start: the master key's objects,
-- and those of clients that name no group, go there, and the first
-- administrator is created in it. A database where setup already created it
-- keeps its own (names are unique case-insensitively). It is not in the
-- audit log: no one acted.
INSERT INTO groups (name, created_at)
SELECT 'default', strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
WHERE NOT EXISTS (SELECT 1 FROM groups WHERE lower(name) = 'default');

-- +goose Down
-- The default group stays: objects may belong to it by now.
SELECT 1;
