-- +goose Up
-- A group's history (RADIUS sessions and PMKs, VPN sessions and client
-- configurations) carries its group_id without a foreign key, because the
-- parent row (a RADIUS client, a PSK, a gateway) may be another group's or
-- gone. Deleting a group now takes that history with it in the same
-- transaction (store.Tx.DeleteGroup); this removes what earlier deletions
-- left behind, and indexes group_id where the deletion would otherwise scan.
-- Certificates stay (the CRL and revocation by serial need them) and move
-- to no group, 0.
DELETE FROM wireguard_leases WHERE config_id IN
    (SELECT id FROM vpn_configs WHERE group_id <> 0 AND group_id NOT IN (SELECT id FROM groups));
DELETE FROM vpn_configs WHERE group_id <> 0 AND group_id NOT IN (SELECT id FROM groups);
DELETE FROM vpn_sessions WHERE group_id <> 0 AND group_id NOT IN (SELECT id FROM groups);
DELETE FROM radius_sessions WHERE group_id <> 0 AND group_id NOT IN (SELECT id FROM groups);
DELETE FROM radius_pmks WHERE group_id <> 0 AND group_id NOT IN (SELECT id FROM groups);
UPDATE pki_certificates SET group_id = 0 WHERE group_id <> 0 AND group_id NOT IN (SELECT id FROM groups);
CREATE INDEX radius_pmks_group ON radius_pmks (group_id);
CREATE INDEX pki_certificates_group ON pki_certificates (group_id);

-- +goose Down
DROP INDEX pki_certificates_group;
DROP INDEX radius_pmks_group;
