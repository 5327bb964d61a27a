package wg

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/meshwire"
)

func newKey(tb testing.TB) wgtypes.Key {
	tb.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func peer(id int64, addr string, extra ...string) meshwire.Peer {
	k, _ := wgtypes.GeneratePrivateKey()
	return meshwire.Peer{ID: id, Name: "p", PublicKey: k.PublicKey().String(), Address: addr,
		AllowedIPs: append([]string{addr + "/32"}, extra...), Endpoint: "192.0.2.1", ListenPort: 51821}
}

func full(seq uint64, self meshwire.Node, peers ...meshwire.Peer) *meshwire.Message {
	return &meshwire.Message{Type: meshwire.MsgFull, Seq: seq, Self: &self,
		Network: &meshwire.Network{NetID: "n", AddressRange: "10.9.0.0/24"}, Peers: peers}
}

func TestBuildSpec(t *testing.T) {
	key := newKey(t)
	gw := peer(2, "10.9.0.2", "192.168.77.0/24", "10.9.0.0/25")
	roaming := peer(3, "10.9.0.3")
	roaming.Endpoint = ""
	bad := peer(4, "10.9.0.4")
	bad.PublicKey = "not-a-key"
	v := meshwire.NewView()
	self := meshwire.Node{ID: 1, Address: "10.9.0.1", ListenPort: 51830, PersistentKeepalive: 20, IsEgressGateway: true}
	if _, err := v.Apply(full(1, self, gw, roaming, bad)); err != nil {
		t.Fatal(err)
	}
	s, skipped := BuildSpec(key, v)
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "peer 4") {
		t.Errorf("skipped %v, want peer 4", skipped)
	}
	if s.ListenPort != 51830 || !s.Forward || s.PrivateKey != key {
		t.Errorf("spec %+v", s)
	}
	if want := []netip.Prefix{netip.MustParsePrefix("10.9.0.1/24")}; !slices.Equal(s.Addresses, want) {
		t.Errorf("addresses %v, want %v", s.Addresses, want)
	}
	// The mesh range is a connected route; only the egress range is routed.
	if want := []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24")}; !slices.Equal(s.Routes, want) {
		t.Errorf("routes %v, want %v", s.Routes, want)
	}
	if len(s.Peers) != 2 {
		t.Fatalf("peers %+v", s.Peers)
	}
	if s.Peers[0].Endpoint.String() != "192.0.2.1:51821" || s.Peers[0].Keepalive != 20*time.Second || len(s.Peers[0].AllowedIPs) != 3 {
		t.Errorf("gateway peer %+v", s.Peers[0])
	}
	if s.Peers[1].Endpoint != nil {
		t.Errorf("a peer without endpoint got %v", s.Peers[1].Endpoint)
	}

	pending := meshwire.NewView()
	if _, err := pending.Apply(full(1, meshwire.Node{ID: 1, Address: "10.9.0.5", IsPending: true}, gw)); err != nil {
		t.Fatal(err)
	}
	if s, _ := BuildSpec(key, pending); len(s.Peers) != 0 || len(s.Routes) != 0 || len(s.Addresses) != 1 {
		t.Errorf("a pending node's spec %+v, want its address and no peers", s)
	}
}

// recordingLink keeps the last Spec applied.
type recordingLink struct{ last Spec }

func (l *recordingLink) Apply(_ context.Context, s Spec) error { l.last = s; return nil }
func (l *recordingLink) Close() error                          { return nil }

// A Tunnel gives peers without a keepalive of their own the one asked for
// and keeps theirs otherwise.
func TestTunnelKeepalive(t *testing.T) {
	tests := map[string]struct {
		own  int // the node's persistentkeepalive
		want time.Duration
	}{
		"no keepalive of its own": {own: 0, want: 25 * time.Second},
		"its own keepalive":       {own: 20, want: 20 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := meshwire.NewView()
			if _, err := v.Apply(full(1, meshwire.Node{ID: 1, Address: "10.9.0.1", PersistentKeepalive: tc.own}, peer(2, "10.9.0.2"))); err != nil {
				t.Fatal(err)
			}
			l := &recordingLink{}
			key := newKey(t)
			if err := NewTunnel(l, slog.New(slog.NewTextHandler(io.Discard, nil))).Configure(context.Background(), key, v, 25*time.Second); err != nil {
				t.Fatal(err)
			}
			if len(l.last.Peers) != 1 || l.last.Peers[0].Keepalive != tc.want || l.last.PrivateKey != key {
				t.Errorf("spec %+v, want one peer with keepalive %v", l.last, tc.want)
			}
		})
	}
}
