// Package e2e holds netkeep's end-to-end tests with real peers: the netkeep
// binary built once, run as `netkeep serve` and `netkeep agent` in Linux
// network namespaces joined by a bridge, checked with ping and wg (the
// WireGuard mesh), and an OpenVPN gateway provisioned through the GateKey
// API with a client using a downloaded .ovpn (connect, ping, refused after
// revocation). They need root and /dev/net/tun (skipped, with the reason
// printed, without them) and the iproute2, iputils-ping, wireguard-tools
// and openvpn programs (a missing one fails the test in CI; see
// internal/testpeer).
package e2e
