// Package apikey is netkeep's scoped API keys (the NetKey, NetRecon, Nekzus and
// GateKey "X-API-Key" credentials): it generates a secret that is shown once,
// in the format of the product it was created through (nk_, gk_, nr_live_,
// nekzus_), stores only its SHA-256, keeps the scope names as given in that
// product's vocabulary beside the netkeep actions they grant, guarantees that
// a key never holds more than its creator may do, lists, revokes and deletes
// keys within the caller's group, and authenticates a presented key of any
// format on the request hot path.
//
// Authentication touches no database once warm: keys are cached in memory by
// hash together with the principal they stand for, unknown hashes are cached
// briefly, per-key rate limits are counted in memory (package ratelimit), and
// last-use times are flushed to the store in batches. Caches on every replica
// are invalidated by "apikey" and "user" events on the event bus.
//
// apikey imports authz, audit, event, fault, name, ratelimit and the standard
// library. It knows no HTTP and no SQL: it reaches storage through the Store
// interface declared here, which internal/store implements.
package apikey
