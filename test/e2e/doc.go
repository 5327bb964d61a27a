// Package e2e holds netkeep's end-to-end tests with real peers: the netkeep
// binary built once, run as `netkeep serve` and `netkeep agent` in Linux
// network namespaces joined by a bridge, checked with ping and wg (the
// WireGuard mesh); an OpenVPN gateway provisioned through the GateKey API
// with a client using a downloaded .ovpn (connect, ping, refused after
// revocation), and through a CA rotation (clients of either CA reach a
// gateway of the other; refused once their CA is revoked); a GateKey mesh hub
// and spoke set up from the mesh agents' answers (the spoke connects to the
// hub under its certificate's name, at the tunnel address netkeep chose,
// and they ping); and one person offboarded with every facet live on the wire
// (mesh agent, OpenVPN session cut through GateKey's agent channel, device
// socket, API key, web session, a FreeRADIUS NAS's Disconnect-Request).
// They need root, /dev/net/tun and network namespaces, and the iproute2,
// iputils-ping, wireguard-tools, openvpn, freeradius and freeradius-utils
// programs: without any of them a test skips, printing why, or fails where
// real-peer tests are required (CI, NETKEEP_REQUIRE_PEERS; see
// internal/testpeer).
package e2e
