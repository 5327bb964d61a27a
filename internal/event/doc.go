// Package event is netkeep's publish/subscribe bus for committed domain changes.
//
// A domain service publishes an Event after its store transaction commits; the
// WebSocket event stream, the WireGuard mesh coordinator and the RADIUS cache
// subscribe. This package holds the Bus interface and Local, the in-process
// bus. The bus that also reaches other replicas through PostgreSQL
// LISTEN/NOTIFY lives beside the store (internal/store/pgbus), built on
// NewRelay; cmd/netkeep chooses one of them, so no domain package depends on
// a database driver.
//
// Delivery is best effort by design, so that a slow or stuck subscriber can never
// stall the writer that published: an event is a hint that something changed,
// and the store stays the source of truth. A subscriber that must not miss a
// change reloads from the store when Subscription.Dropped grows or when it
// receives the bus's own resync event (TopicBus, ActionResync).
//
// The package imports only the standard library and internal/fault; it knows
// nothing of the domain packages whose changes it carries.
package event
