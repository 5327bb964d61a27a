// Package e2e holds netkeep's end-to-end tests with real peers: the netkeep
// binary built once, run as `netkeep serve` and `netkeep agent` in Linux
// network namespaces joined by a bridge, checked with ping and wg. They
// need root and /dev/net/tun (skipped, with the reason printed, without
// them) and the iproute2, iputils-ping and wireguard-tools programs (a
// missing one fails the test in CI; see internal/testpeer).
package e2e
