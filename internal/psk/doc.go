// Package psk is netkeep's identity PSKs and endpoints: per-user and
// per-device WPA2 passphrases of a group, each with an optional VLAN and
// expiry, and the stations (by MAC address) bound to them.
//
// Service validates every rule (passphrase 8..63 printable ASCII or 64 hex
// digits, VLAN 1..4094, psk_id unique per group, expiry in the future, MAC
// addresses in any common form stored as aa:bb:cc:dd:ee:ff, one MAC once per
// group), scopes every lookup to the caller's group through authz.Allow
// (psks:read, psks:write, psks:delete, endpoints:read, endpoints:write), and
// writes each change with its audit entries in one transaction before it
// publishes events. Passphrases are sealed at rest with secret.Keys
// (AES-256-GCM, bound to a random per-row seal id); only Service opens them.
//
// # Events
//
// After every committed change the service publishes on the event bus:
// topic "psk" or "endpoint", action "created", "updated", "deleted" or (psk
// only) "expired", ID the object's numeric ID, GroupID its group. Data
// holds {"psk_id": name} for PSKs and {"mac": mac, "psk": id} for
// endpoints, never a passphrase. Deleting a PSK deletes its endpoints and
// publishes "endpoint"/"deleted" for each. An import that creates more than
// 1,000 objects publishes a single "psk"/"reload" event for the group (empty
// ID) instead of one per object.
//
// # For RADIUS
//
// The RADIUS server keeps an in-memory index and never reads the database
// per packet. It uses, without a principal:
//
//   - Snapshot, or EachPSK and EachEndpoint to stream: the full state, with
//     passphrases in clear. Subscribe to "psk" and "endpoint" first.
//     EachKey and EachBinding stream only what authenticates (Key,
//     Binding), which is what an index of a million stations should read.
//   - LoadPSK and LoadEndpoint: one object by ID, to refresh the index on an
//     event (not_found means it was deleted).
//   - PSK.Usable, Endpoint.Usable and Endpoint.VLAN: the pure decisions at a
//     given instant; a PSK stops authenticating at its expiry instant, before
//     any sweep.
//   - ParseMAC: mac.Parse with the station checks, as the API and imports
//     normalise MACs.
//   - BindEndpoint: auto-enrolment of a station identified by handshake,
//     audited as actor "radius".
//   - TouchEndpoints: batched last_seen updates from accounting.
//
// Run sweeps expired PSKs every 30 seconds: one psk.expired audit entry and
// one "psk"/"expired" event per PSK, once.
//
// psk imports audit, authz, event, fault, name, secret and the standard library;
// it knows no HTTP and no SQL: it reaches storage through the Store
// interface declared here, which internal/store implements.
package psk
