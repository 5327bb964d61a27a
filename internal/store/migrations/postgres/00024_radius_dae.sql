-- +goose Up
-- How netkeep reaches a RADIUS client's dynamic authorization server (RFC
-- 5176) to end a station's session: dae_mode 'disconnect' (Disconnect-Request),
-- 'coa' (CoA-Request) or 'off'; dae_port; dae_address, the server's IP when
-- it is not the client's own address ('' = the client's address, or for a
-- client that is a prefix, the NAS-IP-Address its accounting reported).
ALTER TABLE radius_clients ADD COLUMN dae_mode TEXT NOT NULL DEFAULT 'disconnect';
ALTER TABLE radius_clients ADD COLUMN dae_port INTEGER NOT NULL DEFAULT 3799;
ALTER TABLE radius_clients ADD COLUMN dae_address TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE radius_clients DROP COLUMN dae_address;
ALTER TABLE radius_clients DROP COLUMN dae_port;
ALTER TABLE radius_clients DROP COLUMN dae_mode;
