// Package pki is netkeep's internal certificate authority: one CA (ECDSA
// P-256, created on first start or imported), issuance of short-lived client
// certificates and gateway server certificates, revocation, and the CRL that
// gateways and openssl check.
//
// The CA key is sealed under the server secret before it reaches the store;
// issued private keys are returned to the caller and never stored. Every
// certificate is recorded (serial, subject, owner, validity, revocation).
// Serials are 128 random bits, shown as openssl prints them (Serial).
//
// The CRL is regenerated when a revocation commits and before its NextUpdate
// passes. It is stored with its number so that every replica serves the same
// bytes: the replica that regenerates publishes a "pki"/"crl" event and the
// others load the stored list; a periodic sync repairs lost events. Serving it
// costs a pointer load (Service.CRL).
//
// Callers that issue (the VPN gateway and client-config services) authorize
// their own callers first; the issuance methods take no principal. Revoke
// checks pki:write itself, since the admin API calls it directly.
//
// pki imports audit, authz, event and fault; it knows no HTTP and no SQL.
package pki
