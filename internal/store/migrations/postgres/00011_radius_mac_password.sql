-- +goose Up
-- What a RADIUS client's MAC-authentication requests must carry as their
-- password: 'mac' (the station's MAC), 'any', or 'fixed' (the password in
-- mac_password_sealed, sealed like the secret and bound to the row id).
ALTER TABLE radius_clients ADD COLUMN mac_password_mode TEXT NOT NULL DEFAULT 'mac';
ALTER TABLE radius_clients ADD COLUMN mac_password_sealed BYTEA NOT NULL DEFAULT ''::bytea;

-- +goose Down
ALTER TABLE radius_clients DROP COLUMN mac_password_sealed;
ALTER TABLE radius_clients DROP COLUMN mac_password_mode;
