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
// change: a View folds messages into the desired state idempotently,
// BuildSpec turns it into a Spec (key, port, addresses, peers, routes for
// egress ranges), and the Link changes only what differs, so peers whose
// entries did not change keep their sessions. Every connection starts with
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
// ModeKernel creates a kernel WireGuard interface over rtnetlink; ModeAuto
// (the default) does when the module is there. Otherwise (ModeUserspace)
// the agent runs wireguard-go's device (golang.zx2c4.com/wireguard)
// inside its own process over a TUN interface, with the UAPI socket in
// /var/run/wireguard that `wg` and wgctrl use. Embedding rather than
// running the wireguard-go binary keeps the agent one self-contained file
// (the server hands out exactly that binary at /meshclient/files/netkeep),
// ties the interface's life to the agent's (no daemon left behind), and
// drops the dependency on a separately installed program. Both kinds are
// then programmed the same way, through wgctrl; addresses and routes go
// over rtnetlink (github.com/vishvananda/netlink), and the routes the agent
// adds carry their own protocol number so it never removes anyone else's.
// An egress gateway turns IP forwarding on; it sets up no NAT, so the
// gateway's ranges must route back to the mesh (or be local to it).
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
// several directories (and interface names). agent imports mesh for the
// wire types and the access string, never the store or the HTTP handlers.
package agent
