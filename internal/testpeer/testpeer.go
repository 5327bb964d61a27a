// Package testpeer finds the real programs netkeep's tests talk to
// (radclient, openssl, wireguard-go, wg, openvpn, ip) and says what a test
// may do without them. The policy is one for every real-peer test: when
// peers are required (CI=true, or NETKEEP_REQUIRE_PEERS set) a missing peer
// fails the test, so CI cannot pass without it; otherwise the test skips and
// says how to install it.
package testpeer

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing peers fail tests rather than skip them.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("NETKEEP_REQUIRE_PEERS") != ""
}

// Command returns the path of the program name, installed by the Debian
// package pkg; it fails or skips the test when the program is missing.
func Command(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(tb, name+" not found (apt-get install "+pkg+")")
	return ""
}

// Missing fails the test when peers are required and skips it otherwise,
// printing why either way.
func Missing(tb testing.TB, why string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s, and real-peer tests are required here (CI or NETKEEP_REQUIRE_PEERS)", why)
	}
	tb.Skipf("skipping real-peer test: %s", why)
}
