package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentCLIErrors: the agent's usage errors and unusable states end with
// one "netkeep: ..." line and a non-zero code, before touching any
// interface or server. (The agent's work is tested in internal/agent and,
// with real WireGuard, in test/e2e.)
func TestAgentCLIErrors(t *testing.T) {
	t.Parallel()
	openState := func(tb testing.TB) string {
		tb.Helper()
		d := tb.TempDir()
		if err := os.WriteFile(filepath.Join(d, "state.json"), []byte(`{}`), 0o644); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name string
		args func(tb testing.TB) []string
		want string
	}{
		{"join/no access", func(testing.TB) []string { return []string{"agent", "join"} }, "join needs an access string"},
		{"join/bad access string", func(testing.TB) []string { return []string{"agent", "join", "not*base64"} }, "access string"},
		{"join/bad wireguard mode", func(testing.TB) []string {
			return []string{"agent", "join", "--server", "http://127.0.0.1:1", "--network", "n", "--key", "k", "--wireguard", "magic"}
		}, "--wireguard must be auto, kernel or userspace"},
		{"join/bad interface", func(tb testing.TB) []string {
			return []string{"agent", "join", "--server", "http://127.0.0.1:1", "--network", "n", "--key", "k",
				"--interface", "much-too-long-interface", "--state-dir", tb.TempDir()}
		}, "1 to 15 characters"},
		{"join/server unreachable", func(tb testing.TB) []string {
			return []string{"agent", "join", "--server", "http://127.0.0.1:1", "--network", "n", "--key", "k", "--state-dir", tb.TempDir()}
		}, "joining network n"},
		{"up/no state", func(tb testing.TB) []string { return []string{"agent", "up", "--state-dir", tb.TempDir()} }, "no agent state"},
		{"up/state readable by others", func(tb testing.TB) []string { return []string{"agent", "up", "--state-dir", openState(tb)} }, "readable by others"},
		{"leave/no state", func(tb testing.TB) []string { return []string{"agent", "leave", "--state-dir", tb.TempDir()} }, "no agent state"},
		{"up/extra argument", func(tb testing.TB) []string { return []string{"agent", "up", "--state-dir", tb.TempDir(), "extra"} }, "unexpected argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, "", nil, tc.args(t)...)
			if res.code == 0 {
				t.Fatalf("exit code 0; stderr:\n%s", res.stderr)
			}
			assertOneErrorLine(t, res.stderr, tc.want)
		})
	}

	res := runCLI(t, "", nil, "agent", "nonsense")
	if res.code == 0 || !strings.Contains(res.stderr, `unknown command "nonsense"`) || !strings.Contains(res.stderr, "agent join") {
		t.Errorf("agent nonsense: code %d, stderr:\n%s", res.code, res.stderr)
	}
	if res := runCLI(t, "", nil, "--help"); !strings.Contains(res.stdout, "netkeep agent join") {
		t.Errorf("the usage does not list the agent:\n%s", res.stdout)
	}
	// The state directory can come from the environment, as every flag can.
	dir := t.TempDir()
	res = runCLI(t, "", cleanEnv("NETKEEP_STATE_DIR="+dir), "agent", "up")
	if !strings.Contains(res.stderr, dir) {
		t.Errorf("NETKEEP_STATE_DIR was not used: %s", res.stderr)
	}
	// A flag given on the command line wins over the environment; a bad
	// value from the environment is named in the error.
	res = runCLI(t, "", cleanEnv("NETKEEP_STATE_DIR=/nonexistent"), "agent", "up", "--state-dir", dir)
	if !strings.Contains(res.stderr, dir) {
		t.Errorf("--state-dir did not win over NETKEEP_STATE_DIR: %s", res.stderr)
	}
	res = runCLI(t, "", cleanEnv("NETKEEP_LISTEN_PORT=many"), "agent", "join", "--server", "http://127.0.0.1:1", "--network", "n", "--key", "k")
	if res.code == 0 {
		t.Fatalf("exit code 0; stderr:\n%s", res.stderr)
	}
	assertOneErrorLine(t, res.stderr, "NETKEEP_LISTEN_PORT")
}
