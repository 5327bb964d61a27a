// Package tlscert keeps the TLS certificates netkeep serves its own HTTPS
// with (Nekzus's certificates): it has them issued by netkeep's CA for the
// names and addresses asked for, stores them with their private keys sealed
// under the server secret, and hands the TLS listener the right one for
// each handshake, so a new certificate is served at once, without a
// restart, on every replica.
//
// Certificates are server-wide (one HTTPS listener serves every group), so
// only super principals may see or change them. The package imports the
// domain's audit, authz, event, fault and pki, and crypto/tls for the
// certificate it hands the listener; never net/http or database/sql.
package tlscert
