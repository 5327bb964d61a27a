-- +goose Up
-- The federation listener's certificates, one per set of names it serves
-- (replicas reached under different names each keep theirs), reused at
-- every start while valid and issued by the active CA, so a restart
-- neither issues a certificate nor writes an audit entry. The private key
-- is sealed with the server secret, as CA keys are.
CREATE TABLE federation_identities (
    names          TEXT PRIMARY KEY,
    ca_fingerprint TEXT NOT NULL,
    cert_pem       TEXT NOT NULL,
    key_sealed     BLOB NOT NULL,
    not_after      TIMESTAMP NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE federation_identities;
