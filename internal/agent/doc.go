// Package agent is `netkeep agent`: it joins a host to a WireGuard mesh
// network of a netkeep server (internal/mesh, served in the Netmaker
// dialect) and keeps the host's WireGuard interface in line with the
// node's view of its peers.
//
// Join generates the key pair locally (the private key never leaves the
// host), registers with an access key (POST /api/nodes/{network}), and saves
// a State (state.json, 0600, in a 0700 directory). Agent.Run then creates
// the interface, follows the push stream (GET .../stream, a WebSocket of
// full/upsert/remove/self/network/keyupdate messages) and applies each
// change: a meshwire.View folds messages into the desired state
// idempotently, wg.BuildSpec turns it into a Spec (key, port, addresses,
// peers, routes for egress ranges), and the Link changes only what
// differs, so peers whose entries did not change keep their sessions. Every connection starts with
// a full view, so reconnecting (with jittered exponential backoff, at once
// on the server's resync code) always converges. The agent checks in every
// checkininterval seconds, which renews its node JWT (X-Node-Token); with
// the token expired it authenticates with the random password it
// registered. On keyupdate (or a missed one) it saves a new key as pending,
// publishes its public half (PUT on its node), and only then uses it, so a
// crash never leaves it without the key the server knows. The last view is
// saved too: a restarted agent configures its interface before the server
// answers, and the mesh keeps working while the server is down.
//
// # WireGuard
//
// The interface is internal/wg's Link: kernel WireGuard when the module is
// there (ModeAuto, the default, or ModeKernel), otherwise wireguard-go's
// device inside this process (ModeUserspace); see that package.
//
// # Stopping
//
// On SIGINT/SIGTERM (ctx ending) Run removes the interface: a userspace
// interface cannot outlive the process anyway, and a tunnel nobody keeps
// current would go stale silently. The state stays; `netkeep agent up`
// brings everything back. When the server deletes the node (close code
// 4001, or credentials refused), Run removes the interface and the state
// and returns ErrNodeGone. `netkeep agent leave` deletes the node with its
// own JWT, then removes the interface and the state.
//
// One state directory holds one membership; join several networks with
// several directories (and interface names). agent imports meshwire (the
// wire types, the access string and View, shared with the server and
// meshsim) and wg of netkeep's packages: never mesh, the store or the HTTP
// handlers, so the agent binary's code carries no server dependency.
package agent
