// Package wg programs a host's WireGuard interface for a mesh node: BuildSpec
// turns a node's view (internal/meshwire) and private key into a Spec (key,
// port, addresses, peers, routes for egress ranges), and a Link makes the
// interface match it, changing only what differs, so peers whose entries
// did not change keep their sessions. The agent drives one for its node;
// the server drives a Tunnel for each of its own nodes (internal/mesh's
// ServerNodes).
//
// ModeKernel creates a kernel WireGuard interface over rtnetlink; ModeAuto
// (the default) does when the module is there. Otherwise (ModeUserspace)
// wireguard-go's device (golang.zx2c4.com/wireguard) runs inside this
// process over a TUN interface, with the UAPI socket in /var/run/wireguard
// that `wg` and wgctrl use. Embedding rather than running the wireguard-go
// binary keeps the agent one self-contained file, ties the interface's life
// to the process's (no daemon left behind), and drops the dependency on a
// separately installed program. Both kinds are then programmed the same
// way, through wgctrl; addresses and routes go over rtnetlink
// (github.com/vishvananda/netlink), and the routes added here carry their
// own protocol number so they never remove anyone else's. An egress gateway
// turns IP forwarding on; it sets up no NAT, so the gateway's ranges must
// route back to the mesh (or be local to it).
//
// wg imports meshwire only of netkeep's packages: no domain, no store.
package wg
