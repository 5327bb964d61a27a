// Package pgbus is the event.Bus of replicas sharing one PostgreSQL
// database: it delivers an event within the publishing process at once and
// to every other replica through PostgreSQL LISTEN/NOTIFY.
//
// It lives beside the store because it speaks to the database with the
// PostgreSQL driver (pgx); internal/event keeps the interface and the
// in-process bus, so domain packages that publish and subscribe never depend
// on a driver. cmd/netkeep chooses this bus when the database is PostgreSQL.
//
// The package imports the standard library, pgx, internal/event and
// internal/fault.
package pgbus
