// Package live is netkeep's live event stream: the WebSocket behind the
// Nekzus dialect's GET /api/v1/ws.
//
// A Hub holds one subscription to the event bus (which crosses replicas on
// PostgreSQL) and fans each committed change out to the sockets whose
// principal may see it: its group (super principals see every group) and
// the read permission the event's topic needs (authz.Allow, so API-key
// scopes and device scopes narrow it). Each event is encoded once and the
// same bytes are queued for every recipient.
//
// Protocol (Nekzus's): the client sends {"type":"auth","data":{"token"}}
// first; the server answers auth_success or auth_failed (then closes), and
// after success hello. From then on every message is {"type", "data",
// "timestamp"}. Keepalive runs both ways: the server sends WebSocket pings
// and closes a socket whose pong does not come; a client's {"type":"ping"}
// is answered {"type":"pong"}.
//
// Idle sockets are kept cheap, since a server may hold tens of thousands: a
// socket owns only the goroutine that reads it (the HTTP handler's); a
// writer goroutine exists only while the socket has messages queued. A
// socket whose queue is full is a slow consumer and is closed, so a
// publisher never waits for a reader.
//
// live is a transport: it imports the event bus and authz, never the store,
// and learns to authenticate a token from its Config.
package live
