package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/meshwire"
	"netkeep/internal/wg"
)

// State is what an agent keeps between runs: who it is in which network,
// its credentials and its private key. It lives in one file, state.json,
// mode 0600 in a 0700 directory, written atomically (a temporary file
// renamed over the old one) so a crash never leaves half a state.
type State struct {
	Server     string  `json:"server"`
	Network    string  `json:"network"`
	MACAddress string  `json:"macaddress"`
	NodeID     int64   `json:"node_id"`
	Name       string  `json:"name"`
	Interface  string  `json:"interface"`
	WireGuard  wg.Mode `json:"wireguard"`
	// PrivateKey is the key the server has the public half of. PendingKey
	// is a key being rotated to: saved before it is published, so a crash
	// between publishing and saving never loses the key the server knows.
	PrivateKey Key  `json:"private_key"`
	PendingKey *Key `json:"pending_private_key,omitempty"`
	// Password lets the agent get a new node JWT when its token expired
	// while it was stopped (POST /api/nodes/adm/{network}/authenticate).
	Password     string    `json:"password"`
	Token        string    `json:"token"`
	TokenExpires time.Time `json:"token_expires"`
	// Endpoint and ListenPort are what the agent announced; empty Endpoint
	// means "detect the address that reaches the server".
	Endpoint   string `json:"endpoint,omitempty"`
	ListenPort int    `json:"listen_port,omitempty"`
	// View is the last view received, so a restarted agent configures its
	// interface before the server answers (the mesh keeps working while the
	// control plane is down).
	View *meshwire.Snapshot `json:"view,omitempty"`
}

// StateFile is the state's file name inside the state directory.
const StateFile = "state.json"

// ErrNoState is returned by LoadState when the directory holds no state.
var ErrNoState = errors.New("no agent state")

// LoadState reads the state in dir. It refuses a state file that others may
// read, since it holds the private key.
func LoadState(dir string) (*State, error) {
	path := filepath.Join(dir, StateFile)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoState, dir)
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): it holds a private key; chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if s.Server == "" || s.Network == "" || s.MACAddress == "" || s.PrivateKey == (Key{}) {
		return nil, fmt.Errorf("%s is incomplete: join again", path)
	}
	return &s, nil
}

// Save writes the state to dir atomically, creating dir (0700) if needed.
func (s *State) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, StateFile))
}

// RemoveState deletes the state file (after leaving).
func RemoveState(dir string) error {
	err := os.Remove(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Key is a WireGuard key written as base64 in the state file.
type Key wgtypes.Key

// NewKey generates a private key.
func NewKey() (Key, error) {
	k, err := wgtypes.GeneratePrivateKey()
	return Key(k), err
}

// Public returns the public half of a private key.
func (k Key) Public() string { return wgtypes.Key(k).PublicKey().String() }

// encode is the key in base64, as wg shows keys (unexported: a private
// key must not end up in a log by way of %v).
func (k Key) encode() string { return wgtypes.Key(k).String() }

// MarshalText implements encoding.TextMarshaler.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.encode()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Key) UnmarshalText(b []byte) error {
	p, err := wgtypes.ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = Key(p)
	return nil
}
