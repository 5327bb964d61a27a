// Package nas is the domain of RADIUS clients (network access servers:
// access points and WLAN controllers) and of the sessions they report: who
// may ask the RADIUS server, with which shared secret and in which vendor
// dialect, and which stations are online. A change writes the store and its
// audit entry in one transaction and then publishes a "radius_client" event,
// on which every replica's RADIUS server reloads its client table.
//
// Shared secrets and fixed MAC-authentication passwords are sealed at rest
// (AES-256-GCM under the server secret) and never leave the package except
// to the RADIUS server through All and ByID; the API sees only the
// password's mode (MACPasswordMode). nas imports authz, audit, event and fault; never HTTP or SQL.
package nas
