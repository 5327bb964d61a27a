package agent

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"netkeep/internal/mesh"
)

func peer(id int64, addr string, extra ...string) mesh.WirePeer {
	k, _ := NewKey()
	return mesh.WirePeer{ID: id, Name: "p", PublicKey: k.Public(), Address: addr,
		AllowedIPs: append([]string{addr + "/32"}, extra...), Endpoint: "192.0.2.1", ListenPort: 51821}
}

func full(seq uint64, self mesh.WireNode, peers ...mesh.WirePeer) *mesh.Message {
	return &mesh.Message{Type: mesh.MsgFull, Seq: seq, Self: &self,
		Network: &mesh.WireNetwork{NetID: "n", AddressRange: "10.9.0.0/24"}, Peers: peers}
}

func peerIDs(v *View) []int64 {
	var ids []int64
	for _, p := range v.Peers() {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestViewApply(t *testing.T) {
	self := mesh.WireNode{ID: 1, Address: "10.9.0.1", ListenPort: 51821}
	p2, p3, p4 := peer(2, "10.9.0.2"), peer(3, "10.9.0.3"), peer(4, "10.9.0.4")
	p2moved := p2
	p2moved.Endpoint = "192.0.2.99"
	tests := map[string]struct {
		msgs      []*mesh.Message
		wantPeers []int64
		wantErr   string // on the last message
		rotate    bool   // the last message asks for a key rotation
	}{
		"full view": {msgs: []*mesh.Message{full(5, self, p2, p3)}, wantPeers: []int64{2, 3}},
		"upsert adds and replaces": {msgs: []*mesh.Message{
			full(5, self, p2), {Type: mesh.MsgUpsert, Seq: 6, Peer: &p3}, {Type: mesh.MsgUpsert, Seq: 9, Peer: &p2moved},
		}, wantPeers: []int64{2, 3}},
		"remove": {msgs: []*mesh.Message{
			full(5, self, p2, p3), {Type: mesh.MsgRemove, Seq: 6, ID: 2, PublicKey: p2.PublicKey},
		}, wantPeers: []int64{3}},
		"remove of an unknown peer is a no-op": {msgs: []*mesh.Message{
			full(5, self, p2), {Type: mesh.MsgRemove, Seq: 6, ID: 42},
		}, wantPeers: []int64{2}},
		"a new full view replaces everything": {msgs: []*mesh.Message{
			full(5, self, p2, p3), {Type: mesh.MsgUpsert, Seq: 6, Peer: &p4}, full(1, self, p3),
		}, wantPeers: []int64{3}},
		"own node in a full view or upsert is left out": {msgs: []*mesh.Message{
			full(5, self, p2, mesh.WirePeer{ID: 1, PublicKey: p3.PublicKey}),
			{Type: mesh.MsgUpsert, Seq: 6, Peer: &mesh.WirePeer{ID: 1}},
		}, wantPeers: []int64{2}},
		"becoming pending drops the peers": {msgs: []*mesh.Message{
			full(5, self, p2), {Type: mesh.MsgSelf, Seq: 6, Self: &mesh.WireNode{ID: 1, IsPending: true}},
		}, wantPeers: nil},
		"keyupdate asks to rotate": {msgs: []*mesh.Message{
			full(5, self, p2), {Type: mesh.MsgKeyUpdate, Seq: 7, KeyUpdateTimestamp: 100},
		}, wantPeers: []int64{2}, rotate: true},
		"a missed keyupdate in the full view asks to rotate": {msgs: []*mesh.Message{
			full(5, mesh.WireNode{ID: 1, NeedKeyUpdate: true}),
		}, rotate: true},
		"unknown types are ignored": {msgs: []*mesh.Message{
			full(5, self, p2), {Type: "future", Seq: 6},
		}, wantPeers: []int64{2}},
		"delta before the full view": {msgs: []*mesh.Message{
			{Type: mesh.MsgUpsert, Seq: 6, Peer: &p2},
		}, wantErr: "before the full view"},
		"sequence going back": {msgs: []*mesh.Message{
			full(5, self, p2), {Type: mesh.MsgUpsert, Seq: 5, Peer: &p3},
		}, wantErr: "seq 5 after 5", wantPeers: []int64{2}},
		"full view without self": {msgs: []*mesh.Message{
			{Type: mesh.MsgFull, Seq: 1, Network: &mesh.WireNetwork{}},
		}, wantErr: "without network or self"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := NewView()
			var eff Effect
			var err error
			for i, m := range tc.msgs {
				eff, err = v.Apply(m)
				if err != nil && i < len(tc.msgs)-1 {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("last message: %v, want error %q", err, tc.wantErr)
			}
			if got := peerIDs(v); !slices.Equal(got, tc.wantPeers) {
				t.Errorf("peers %v, want %v", got, tc.wantPeers)
			}
			if eff.RotateKey != tc.rotate {
				t.Errorf("RotateKey = %v, want %v", eff.RotateKey, tc.rotate)
			}
		})
	}
}

// Replaying a connection's messages after a reconnect converges on the same
// view: the full view resets, the deltas apply idempotently.
func TestViewResyncConverges(t *testing.T) {
	self := mesh.WireNode{ID: 1, Address: "10.9.0.1"}
	p2, p3 := peer(2, "10.9.0.2"), peer(3, "10.9.0.3")
	conn := []*mesh.Message{full(3, self, p2), {Type: mesh.MsgUpsert, Seq: 4, Peer: &p3}, {Type: mesh.MsgRemove, Seq: 8, ID: 2}}
	v := NewView()
	for range 2 {
		v.Reset()
		for _, m := range conn {
			if _, err := v.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := peerIDs(v); !slices.Equal(got, []int64{3}) {
		t.Fatalf("peers %v after replay, want [3]", got)
	}
	restored := NewView()
	restored.Restore(v.Snapshot())
	if got := peerIDs(restored); !slices.Equal(got, []int64{3}) || restored.Self().Address != "10.9.0.1" {
		t.Fatalf("restored view: peers %v, self %+v", got, restored.Self())
	}
}

func TestBuildSpec(t *testing.T) {
	key, _ := NewKey()
	gw := peer(2, "10.9.0.2", "192.168.77.0/24", "10.9.0.0/25")
	roaming := peer(3, "10.9.0.3")
	roaming.Endpoint = ""
	bad := peer(4, "10.9.0.4")
	bad.PublicKey = "not-a-key"
	v := NewView()
	self := mesh.WireNode{ID: 1, Address: "10.9.0.1", ListenPort: 51830, PersistentKeepalive: 20, IsEgressGateway: true}
	if _, err := v.Apply(full(1, self, gw, roaming, bad)); err != nil {
		t.Fatal(err)
	}
	s, skipped := BuildSpec(key, v)
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "peer 4") {
		t.Errorf("skipped %v, want peer 4", skipped)
	}
	if s.ListenPort != 51830 || !s.Forward || s.PrivateKey.PublicKey().String() != key.Public() {
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

	pending := NewView()
	if _, err := pending.Apply(full(1, mesh.WireNode{ID: 1, Address: "10.9.0.5", IsPending: true}, gw)); err != nil {
		t.Fatal(err)
	}
	if s, _ := BuildSpec(key, pending); len(s.Peers) != 0 || len(s.Routes) != 0 || len(s.Addresses) != 1 {
		t.Errorf("a pending node's spec %+v, want its address and no peers", s)
	}
}
