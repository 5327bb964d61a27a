// Package mesh is netkeep's WireGuard mesh domain: networks with their
// address ranges, access (enrollment) keys, nodes and their addresses,
// egress gateways, node credentials, and each node's view of its peers,
// kept current for connected agents by a push stream of deltas.
//
// mesh imports authz, audit, event, fault, identity (token constants,
// password hashing) and meshwire (the wire shapes it encodes and the view
// its own nodes keep); it knows no HTTP and no SQL, and drives the server's
// own WireGuard interfaces (ServerNodes) through the ServerTunnel its
// caller injects. Store binds it to
// internal/store; internal/api/netmaker serves it in Netmaker's dialect.
//
// # Scale
//
// Each network has one shared in-memory state on every replica (netState):
// its settings, its members and, per approved node, its peer entry encoded
// once (meshwire.Peer JSON). A node's view is the other approved members'
// entries, taken from a snapshot shared by every view until the next change,
// so deriving it costs a copy of bytes, never an encoding, and nobody's view
// is recomputed because another node changed. A change (join, leave,
// update, approval, gateway) is applied to the state in O(1), re-encoding
// only the changed node's entry, and its one message (encoded once, shared)
// is appended to the network's change log (changeLog): each connected
// stream is a cursor into that log and picks what concerns its node, so
// fanning a change out costs the server O(1) however many nodes are
// connected, and the runtime one wake-up per waiting stream. A transport
// may instead have a stream pushed (Stream.Push): one dispatcher per network
// tells it when to write, so an idle connected agent holds no goroutine. The log is a
// bounded ring: it bounds memory, and a consumer that falls further behind
// than it keeps is dropped and resyncs. The store is written first; this
// replica then applies the change directly and publishes a "node" or
// "network" event carrying the changed record, from which other replicas
// apply it. Revisions (counted by the store) make applying idempotent and
// order-tolerant; a bus resync or dropped events reconcile the state with
// the store.
//
// No private key is held for any node: agents generate theirs and publish
// only the public half. The one exception is the server's own node
// (AddServer), whose key is the server's and is stored sealed.
//
// # Node credentials
//
// POST /api/nodes/{network} with {"accesskey", "macaddress", "publickey",
// "password", ...} creates the node; the key alone authorises it (each join
// consumes one use atomically). The answer carries the node's JWT (audience
// netkeep-node, subject "<network>/<node id>", 24 h) in the X-Node-Token
// header (expiry in X-Node-Token-Expires), and every check-in the node makes
// with it returns a renewed one there, so an agent needs no password. With a
// password (a keyed hash for machine secrets, argon2id otherwise: see
// password.go),
// POST /api/nodes/adm/{network}/authenticate {"macaddress", "password"}
// returns a JWT in Response.AuthToken too, as in Netmaker. Sent as
// "Authorization: Bearer <jwt>", it authorises that node's own calls only:
// GET/PUT/DELETE /api/nodes/{network}/{macaddress} (a node may change its
// public key, endpoint, listen port, name, password, keepalive, not its
// addresses; DELETE is leaving), POST .../checkin, GET .../peers (JSON array
// of meshwire.Peer), GET .../config (wg-quick text whose PrivateKey line is
// PrivateKeyPlaceholder, to be replaced by the agent's own key) and
// GET .../stream. Deleting the node revokes its tokens at once.
//
// # Push stream protocol
//
// GET /api/nodes/{network}/{macaddress}/stream with the node's JWT upgrades
// to a WebSocket. The server sends text messages, one JSON object each; the
// client sends none (a data message ends the stream) and must answer pings
// (any WebSocket library does). Every message has "type" and "seq": seq is
// the network's change counter on the serving replica, strictly increasing
// within one connection, with gaps where changes did not concern the node.
// It is not comparable across connections: every connection starts over
// with a full view or a sync.
//
//	{"type":"full","seq":S,"network":meshwire.Network,"self":meshwire.Node,"peers":[meshwire.Peer...]}
//	    First message of a connection: the complete state. Replace the
//	    interface's peers with exactly these. A pending node (self.ispending)
//	    gets "peers":[] and nothing else until approved.
//	{"type":"sync","seq":S,"mark":M,"network":...,"self":...,
//	 "buckets":[{"bucket":B,"sum":X,"ids":[ID...]}...],"peers":[meshwire.Peer...]}
//	    First message instead of "full" when the request carried the digest
//	    of the view the agent holds (header meshwire.HeaderView, see
//	    meshwire.ViewDigest): for each listed bucket (meshwire.BucketOf a
//	    peer's id), keep only the peers whose IDs are listed, take the
//	    listed peers (those changed since the digest's mark), then check
//	    that the bucket's sum is X; keep every other bucket as it is. No
//	    bucket listed: the held view is current. A sum that differs means
//	    reconnecting with mark 0 (meshwire.View does this). Full views
//	    carry "mark" too: the digest's mark for the next reconnection.
//	{"type":"upsert","seq":S,"peer":meshwire.Peer}
//	    A peer joined or changed: add it, or replace the peer with the same
//	    "id". If its publickey changed, remove the WireGuard peer with the old
//	    key. AllowedIPs are complete (addresses plus egress ranges).
//	{"type":"remove","seq":S,"id":ID,"publickey":KEY}
//	    A peer left (deleted, or no longer approved): remove it.
//	{"type":"self","seq":S,"self":meshwire.Node}
//	    This node's own record changed (addresses, gateway ranges, listen
//	    port, keepalive...): reconfigure the interface.
//	{"type":"network","seq":S,"network":meshwire.Network}
//	    The network's settings changed.
//	{"type":"keyupdate","seq":S,"keyupdatetimestamp":T}
//	    Rotate: generate a new key pair, then PUT {"publickey": NEW} to
//	    /api/nodes/{network}/{macaddress}; peers receive an upsert.
//
// The server ends a stream with a close code:
//
//	4000 resync        reconnect at once; the new full view resynchronises.
//	                   Sent when the connection fell more than
//	                   DefaultStreamBuffer changes of the network behind (the
//	                   server never buffers without bound), and when this
//	                   node was approved.
//	4001 node deleted  stop; remove the interface.
//	1001 going away    the server is stopping: reconnect with backoff.
//
// The JWT is checked when the stream opens; deleting the node ends it (4001).
// While streaming, an agent still checks in every network.checkininterval
// seconds: that records liveness and renews its JWT (X-Node-Token). A full
// view is about 300 bytes per peer (3 MB at 10,000 peers): size the read
// limit for it, and offer the held view's digest on every reconnection so
// that a reconnect storm (every agent after a server restart) costs each
// agent what changed, not the network's size. self.needkeyupdate in a full view means a keyupdate was
// missed: rotate now. An HTTP 401 on connect means the JWT expired or the
// node is gone: authenticate again (and re-join if the node no longer
// exists). Agents without a stream can poll: GET .../peers for the view,
// POST .../checkin (its "needkeyupdate" says when to rotate), and GET
// /api/nodes/adm/{network}/lastmodified, raised by every change.
//
// The access string (accessstring of an access key) is unpadded base64url of
// {"server","network","key"}; meshwire.ParseAccessString decodes it.
package mesh
