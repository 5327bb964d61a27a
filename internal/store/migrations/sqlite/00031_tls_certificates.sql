-- +goose Up
-- The certificates netkeep's own HTTPS listener serves, one per domain (the
-- first name it was asked for). sans is a JSON array of the names and
-- addresses; chain_pem the certificate and its CA's; key_sealed the PKCS #8
-- private key sealed with AES-256-GCM under the server secret.
CREATE TABLE tls_certificates (
    domain      TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    sans        TEXT NOT NULL,
    serial      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    not_before  TIMESTAMP NOT NULL,
    not_after   TIMESTAMP NOT NULL,
    chain_pem   TEXT NOT NULL,
    key_sealed  BLOB NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE tls_certificates;
