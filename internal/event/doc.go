// Package event is netkeep's publish/subscribe bus for committed domain changes.
//
// A domain service publishes an Event after its store transaction commits; the
// WebSocket event stream, the WireGuard mesh coordinator and the RADIUS cache
// subscribe. Two implementations satisfy Bus:
//
//   - Local delivers within one process.
//   - Postgres delivers within the process at once and to every other replica
//     sharing the database through PostgreSQL LISTEN/NOTIFY.
//
// Delivery is best effort by design, so that a slow or stuck subscriber can never
// stall the writer that published: an event is a hint that something changed,
// and the store stays the source of truth. A subscriber that must not miss a
// change reloads from the store when Subscription.Dropped grows or when it
// receives the bus's own resync event (TopicBus, ActionResync).
//
// The package imports only the standard library, pgx and internal/fault; it
// knows nothing of the domain packages whose changes it carries.
package event
