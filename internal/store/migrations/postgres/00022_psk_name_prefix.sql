-- +goose Up
-- Finding a PSK by the start of its name or description (the dashboard's
-- search): ranges over lower(psk_id) and lower(description) within a
-- group read only the matches, where a substring search scans the group.
-- The "C" collation orders by bytes, so a prefix is one range whatever the
-- database's locale.
CREATE INDEX psks_group_lower_name ON psks (group_id, (lower(psk_id) COLLATE "C"));
CREATE INDEX psks_group_lower_description ON psks (group_id, (lower(description) COLLATE "C"));

-- +goose Down
DROP INDEX psks_group_lower_description;
DROP INDEX psks_group_lower_name;
