package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"

	"netkeep/internal/meshwire"
	"netkeep/internal/wg"
)

// JoinOptions are what `netkeep agent join` is given.
type JoinOptions struct {
	Server, Network, Key string
	Name                 string // default: the host name
	Interface            string // default: the network's default interface
	Endpoint             string // default: the address that reaches the server
	MACAddress           string // default: a random locally administered one
	ListenPort           int    // default: the network's
	Mode                 wg.Mode
}

// Join registers this host as a node of the network and saves the state in
// dir. A state already there for the same server and network is reused (a
// host joins once; running join again resumes), unless the server no
// longer has that node, in which case the host registers anew. A state of
// another network or server is an error: leave first, or use another
// directory.
func Join(ctx context.Context, cfg Config, o JoinOptions) (*State, error) {
	cfg = cfg.withDefaults()
	if o.Server == "" || o.Network == "" || o.Key == "" {
		return nil, errors.New("join needs an access string, or --server, --network and --key")
	}
	if o.Interface != "" {
		if msg := meshwire.CheckInterfaceName(o.Interface); msg != "" {
			return nil, errors.New(msg)
		}
	}
	st, err := LoadState(cfg.Dir)
	switch {
	case err == nil && (st.Server != o.Server || st.Network != o.Network):
		return nil, fmt.Errorf("%s already holds this host's membership of network %s on %s: leave it first, or use another --state-dir",
			cfg.Dir, st.Network, st.Server)
	case err == nil:
		if err := New(cfg, st).verify(ctx); errors.Is(err, ErrNodeGone) {
			cfg.Log.Info("the saved node is gone from the server: joining again", "reason", err)
			break
		}
		return st, nil // reachable or not, the agent resumes from it
	case !errors.Is(err, ErrNoState):
		return nil, err
	}
	return register(ctx, cfg, o)
}

func register(ctx context.Context, cfg Config, o JoinOptions) (*State, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	mac := o.MACAddress
	if mac == "" {
		mac = randomMAC()
	}
	req := JoinRequest{
		AccessKey: o.Key, MACAddress: mac, PublicKey: key.Public(), Password: randomPassword(),
		Name: o.Name, Endpoint: o.Endpoint, ListenPort: o.ListenPort, Interface: o.Interface, OS: runtime.GOOS,
	}
	if req.Name == "" {
		req.Name = hostName()
	}
	if req.Endpoint == "" {
		req.Endpoint = detectEndpoint(o.Server)
	}
	api := &Client{Server: o.Server, HTTP: cfg.HTTP}
	n, tok, err := api.Join(ctx, o.Network, req)
	if err != nil {
		return nil, fmt.Errorf("joining network %s: %w", o.Network, err)
	}
	st := &State{
		Server: o.Server, Network: o.Network, MACAddress: n.MACAddress, NodeID: n.ID, Name: n.Name,
		Interface: o.Interface, WireGuard: o.Mode, PrivateKey: key, Password: req.Password,
		Token: tok.Value, TokenExpires: tok.Expires, Endpoint: o.Endpoint, ListenPort: o.ListenPort,
	}
	if st.Interface == "" {
		st.Interface = n.Interface
	}
	if meshwire.CheckInterfaceName(st.Interface) != "" {
		st.Interface = meshwire.DefaultInterface(o.Network)
	}
	if err := st.Save(cfg.Dir); err != nil {
		return nil, fmt.Errorf("the node joined but its state could not be saved (delete node %s in network %s and join again): %w",
			n.MACAddress, o.Network, err)
	}
	return st, nil
}

// verify asks the server whether it still has the node: ErrNodeGone when
// neither the token nor the password is accepted any more.
func (a *Agent) verify(ctx context.Context) error {
	_, _, err := a.api.CheckIn(ctx, a.st.Network, a.st.MACAddress, a.st.Token)
	if s := statusOf(err); s == http.StatusUnauthorized || s == http.StatusNotFound {
		a.st.Token = ""
		_, err = a.token(ctx)
	}
	return err
}

// Leave deletes the node with its own credential, removes a kernel
// interface left behind and the state. An agent still running for the node
// sees the deletion on its stream and stops.
func Leave(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	st, err := LoadState(cfg.Dir)
	if err != nil {
		return err
	}
	a := New(cfg, st)
	tok, err := a.token(ctx)
	if err == nil {
		err = a.api.DeleteNode(ctx, st.Network, st.MACAddress, tok)
		if s := statusOf(err); s == http.StatusNotFound || s == http.StatusUnauthorized {
			err = nil // already gone
		}
	}
	if err != nil && !errors.Is(err, ErrNodeGone) {
		return fmt.Errorf("deleting node %s from network %s: %w", st.MACAddress, st.Network, err)
	}
	if err := wg.RemoveInterface(st.Interface); err != nil {
		cfg.Log.Warn("removing the interface", "interface", st.Interface, "err", err)
	}
	return RemoveState(cfg.Dir)
}

// FromAccessString fills the server, network and key from an access
// string (an access key's accessstring).
func (o *JoinOptions) FromAccessString(s string) error {
	a, err := meshwire.ParseAccessString(s)
	if err != nil {
		return fmt.Errorf("access string: %w", err)
	}
	o.Server, o.Network, o.Key = a.Server, a.Network, a.Key
	return nil
}

// detectEndpoint returns the local address this host uses to reach the
// server (no packet is sent), or "" when that is a loopback address, which
// no peer could use.
func detectEndpoint(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil || ap.Addr().IsLoopback() {
		return ""
	}
	return ap.Addr().Unmap().String()
}

// randomMAC is a random unicast, locally administered MAC address: the
// node's identity in the network, stable in the state, never the
// hardware's (which would tell the server about the host's cards).
func randomMAC() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	b[0] = b[0]&0xfc | 0x02
	return net.HardwareAddr(b).String()
}

func randomPassword() string { return rand.Text() }

// hostName is the host's name in the characters a node name allows.
func hostName() string {
	h, _ := os.Hostname()
	h = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, h)
	if len(h) > meshwire.MaxNameLen {
		h = h[:meshwire.MaxNameLen]
	}
	return h // empty: the server picks a name
}
