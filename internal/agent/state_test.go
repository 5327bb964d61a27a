package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netkeep/internal/meshwire"
	"netkeep/internal/wg"
)

func testState(t testing.TB) *State {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return &State{Server: "http://10.0.0.1:8080", Network: "net1", MACAddress: "02:00:00:00:00:01", NodeID: 7,
		Interface: "nk-net1", WireGuard: wg.ModeUserspace, PrivateKey: k, Password: "pw", Token: "a.b.c"}
}

func TestStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agent")
	st := testState(t)
	pending, _ := NewKey()
	st.PendingKey = &pending
	st.View = &meshwire.Snapshot{Self: meshwire.Node{ID: 7, Address: "10.1.0.2"}, Peers: []meshwire.Peer{{ID: 8, PublicKey: "x"}}}
	if err := st.Save(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", di.Mode().Perm())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, StateFile))
	if !strings.Contains(string(raw), `"private_key": "`+st.PrivateKey.encode()+`"`) {
		t.Errorf("the private key is not stored as base64:\n%s", raw)
	}
	got, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.PrivateKey != st.PrivateKey || got.PendingKey == nil || *got.PendingKey != pending ||
		got.MACAddress != st.MACAddress || got.View == nil || len(got.View.Peers) != 1 || got.WireGuard != wg.ModeUserspace {
		t.Errorf("loaded %+v, saved %+v", got, st)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the state directory holds %d entries, want only %s", len(entries), StateFile)
	}
}

func TestLoadStateErrors(t *testing.T) {
	tests := map[string]struct {
		prepare func(t *testing.T, dir string)
		want    string
	}{
		"missing": {func(t *testing.T, dir string) {}, "no agent state"},
		"readable by others": {func(t *testing.T, dir string) {
			if err := testState(t).Save(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, StateFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "readable by others"},
		"not JSON": {func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "reading"},
		"no key": {func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"server":"http://x","network":"n","macaddress":"02:00:00:00:00:01"}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "incomplete"},
		"bad key": {func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"private_key":"nope"}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "reading"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			_, err := LoadState(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadState: %v, want an error containing %q", err, tc.want)
			}
			if name == "missing" && !errors.Is(err, ErrNoState) {
				t.Errorf("%v is not ErrNoState", err)
			}
		})
	}
}

func TestRemoveState(t *testing.T) {
	dir := t.TempDir()
	if err := testState(t).Save(dir); err != nil {
		t.Fatal(err)
	}
	for range 2 { // removing twice is fine
		if err := RemoveState(dir); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadState(dir); !errors.Is(err, ErrNoState) {
		t.Fatalf("after RemoveState: %v", err)
	}
}
