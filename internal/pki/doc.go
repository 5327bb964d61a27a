// Package pki is netkeep's internal certificate authority: the server-wide
// CA (ECDSA P-256, created on first start or imported), the CAs groups rotate
// in (rotation.go: several per group at once, one issuing, the others still
// trusted until revoked), issuance of short-lived client certificates and
// gateway server certificates, revocation, and one CRL per CA in service that
// gateways and openssl check. Trust is what a group's gateways and profiles
// carry: every CA the group trusts, with their CRLs.
//
// The CA key is sealed under the server secret before it reaches the store;
// issued private keys are returned to the caller and never stored. Every
// certificate is recorded (serial, subject, owner, validity, revocation).
// Serials are 128 random bits, shown as openssl prints them (Serial).
//
// A CA's CRL is regenerated when a revocation commits and before its
// NextUpdate passes. It is stored with its number so that every replica
// serves the same bytes: the replica that regenerates publishes a
// "pki"/"crl" event and the others load the stored list; a periodic sync
// repairs lost events. Serving the server-wide CA's costs a pointer load
// (Service.CRL), another CA's a map lookup (Service.CRLOf).
//
// Callers that issue (the VPN gateway and client-config services) authorize
// their own callers first; the issuance methods take no principal. Revoke
// checks pki:write itself, since the admin API calls it directly.
//
// pki imports audit, authz, event and fault; it knows no HTTP and no SQL.
package pki
