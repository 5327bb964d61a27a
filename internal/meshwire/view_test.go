package meshwire

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func peer(id int64, addr string, extra ...string) Peer {
	return Peer{ID: id, Name: "p", PublicKey: fmt.Sprintf("key-of-%d", id), Address: addr,
		AllowedIPs: append([]string{addr + "/32"}, extra...), Endpoint: "192.0.2.1", ListenPort: 51821}
}

func full(seq uint64, self Node, peers ...Peer) *Message {
	return &Message{Type: MsgFull, Seq: seq, Self: &self,
		Network: &Network{NetID: "n", AddressRange: "10.9.0.0/24"}, Peers: peers}
}

func sync(seq uint64, self Node, buckets []SyncBucket, peers ...Peer) *Message {
	m := full(seq, self, peers...)
	m.Type, m.Buckets = MsgSync, buckets
	return m
}

// sb is bucket b of a sync holding exactly peers.
func sb(b int, peers ...Peer) SyncBucket {
	s := SyncBucket{Bucket: b, IDs: []int64{}}
	for _, p := range peers {
		s.Sum += DigestOf(p)
		s.IDs = append(s.IDs, p.ID)
	}
	return s
}

func peerIDs(v *View) []int64 {
	var ids []int64
	for _, p := range v.Peers() {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestViewApply(t *testing.T) {
	self := Node{ID: 1, Address: "10.9.0.1", ListenPort: 51821}
	p2, p3, p4 := peer(2, "10.9.0.2"), peer(3, "10.9.0.3"), peer(4, "10.9.0.4")
	p2moved := p2
	p2moved.Endpoint = "192.0.2.99"
	tests := map[string]struct {
		msgs      []*Message
		wantPeers []int64
		wantErr   string // on the last message
		ignored   string // the last message is ignored as one the server must not send
		rotate    bool   // the last message asks for a key rotation
	}{
		"full view": {msgs: []*Message{full(5, self, p2, p3)}, wantPeers: []int64{2, 3}},
		"upsert adds and replaces": {msgs: []*Message{
			full(5, self, p2), {Type: MsgUpsert, Seq: 6, Peer: &p3}, {Type: MsgUpsert, Seq: 9, Peer: &p2moved},
		}, wantPeers: []int64{2, 3}},
		"remove": {msgs: []*Message{
			full(5, self, p2, p3), {Type: MsgRemove, Seq: 6, ID: 2, PublicKey: p2.PublicKey},
		}, wantPeers: []int64{3}},
		"remove of an unknown peer is a no-op": {msgs: []*Message{
			full(5, self, p2), {Type: MsgRemove, Seq: 6, ID: 42},
		}, wantPeers: []int64{2}, ignored: "remove of unknown peer 42"},
		"a new full view replaces everything": {msgs: []*Message{
			full(5, self, p2, p3), {Type: MsgUpsert, Seq: 6, Peer: &p4}, full(1, self, p3),
		}, wantPeers: []int64{3}},
		"own node in a full view or upsert is left out": {msgs: []*Message{
			full(5, self, p2, Peer{ID: 1, PublicKey: p3.PublicKey}),
			{Type: MsgUpsert, Seq: 6, Peer: &Peer{ID: 1}},
		}, wantPeers: []int64{2}, ignored: "upsert of the node itself"},
		"becoming pending drops the peers": {msgs: []*Message{
			full(5, self, p2), {Type: MsgSelf, Seq: 6, Self: &Node{ID: 1, IsPending: true}},
		}, wantPeers: nil},
		"keyupdate asks to rotate": {msgs: []*Message{
			full(5, self, p2), {Type: MsgKeyUpdate, Seq: 7, KeyUpdateTimestamp: 100},
		}, wantPeers: []int64{2}, rotate: true},
		"a missed keyupdate in the full view asks to rotate": {msgs: []*Message{
			full(5, Node{ID: 1, NeedKeyUpdate: true}),
		}, rotate: true},
		"unknown types are ignored": {msgs: []*Message{
			full(5, self, p2), {Type: "future", Seq: 6},
		}, wantPeers: []int64{2}, ignored: `unknown message type "future"`},
		"a pending node's full view has no peers": {msgs: []*Message{
			full(5, Node{ID: 1, IsPending: true}, p2),
		}, wantPeers: nil, ignored: "pending node has peers"},
		"a pending node takes no upsert": {msgs: []*Message{
			full(5, Node{ID: 1, IsPending: true}), {Type: MsgUpsert, Seq: 6, Peer: &p2},
		}, wantPeers: nil, ignored: "upsert to a pending node"},
		"messages without their payload": {msgs: []*Message{
			full(5, self, p2), {Type: MsgSelf, Seq: 6}, {Type: MsgNetwork, Seq: 7}, {Type: MsgUpsert, Seq: 8},
		}, wantPeers: []int64{2}, ignored: "upsert without peer"},
		"delta before the full view": {msgs: []*Message{
			{Type: MsgUpsert, Seq: 6, Peer: &p2},
		}, wantErr: "before the full view"},
		"sequence going back": {msgs: []*Message{
			full(5, self, p2), {Type: MsgUpsert, Seq: 5, Peer: &p3},
		}, wantErr: "seq 5 after 5", wantPeers: []int64{2}},
		"sync replaces the listed buckets only": {msgs: []*Message{
			full(5, self, p2, p3, p4), sync(1, self, []SyncBucket{sb(BucketOf(2), p2moved), sb(BucketOf(4))}, p2moved),
		}, wantPeers: []int64{2, 3}},
		"sync keeps listed peers it does not resend": {msgs: []*Message{
			full(5, self, p2, p3), sync(1, self, []SyncBucket{sb(BucketOf(2), p2)}),
		}, wantPeers: []int64{2, 3}},
		"sync with no bucket keeps every peer": {msgs: []*Message{
			full(5, self, p2, p3), sync(1, self, nil),
		}, wantPeers: []int64{2, 3}},
		"sync listing a peer outside its buckets": {msgs: []*Message{
			full(5, self, p2), sync(1, self, nil, p3),
		}, wantPeers: []int64{2}, ignored: "outside its buckets"},
		"sync naming a bucket out of range": {msgs: []*Message{
			full(5, self, p2), sync(1, self, []SyncBucket{{Bucket: ViewBuckets}}),
		}, wantErr: "bucket 256", wantPeers: []int64{2}},
		"sync leaving a bucket's sum different fails": {msgs: []*Message{
			full(5, self, p2), sync(1, self, []SyncBucket{sb(BucketOf(2), p2moved)}), // p2moved not resent
		}, wantErr: "differs from the server's", wantPeers: []int64{2}},
		"full view without self": {msgs: []*Message{
			{Type: MsgFull, Seq: 1, Network: &Network{}},
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
			if got := fmt.Sprint(eff.Ignored); tc.ignored == "" && eff.Ignored != nil || tc.ignored != "" && !strings.Contains(got, tc.ignored) {
				t.Errorf("Ignored = %v, want %q", eff.Ignored, tc.ignored)
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
	self := Node{ID: 1, Address: "10.9.0.1"}
	p2, p3 := peer(2, "10.9.0.2"), peer(3, "10.9.0.3")
	conn := []*Message{full(3, self, p2), {Type: MsgUpsert, Seq: 4, Peer: &p3}, {Type: MsgRemove, Seq: 8, ID: 2}}
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

// TestViewDigest: the digest follows every change, equals the sum over the
// peers' canonical encodings whatever the order of changes, survives a
// snapshot, and round-trips through its header encoding.
func TestViewDigest(t *testing.T) {
	self := Node{ID: 1, Address: "10.9.0.1"}
	p2, p3, p4 := peer(2, "10.9.0.2"), peer(3, "10.9.0.3"), peer(258, "10.9.1.2") // 2 and 258 share a bucket
	want := func(peers ...Peer) BucketSums {
		var d BucketSums
		for _, p := range peers {
			b, _ := json.Marshal(p)
			d.Add(BucketOf(p.ID), PeerDigest(b))
		}
		return d
	}
	v := NewView()
	if _, ok := v.Digest(); ok {
		t.Fatal("an empty view offers a digest")
	}
	steps := []struct {
		msg  *Message
		want BucketSums
	}{
		{full(1, self, p2, p3), want(p2, p3)},
		{&Message{Type: MsgUpsert, Seq: 2, Peer: &p4}, want(p2, p3, p4)},
		{&Message{Type: MsgRemove, Seq: 3, ID: 2}, want(p3, p4)},
		{sync(1, self, []SyncBucket{sb(BucketOf(2), p2)}, p2), want(p2, p3)}, // the bucket is exactly what the sync lists: 258 went
	}
	for i, st := range steps {
		if _, err := v.Apply(st.msg); err != nil {
			t.Fatal(err)
		}
		d, ok := v.Digest()
		if !ok || d.Sums != st.want {
			t.Fatalf("step %d: digest differs (ok %v)", i, ok)
		}
	}
	restored := NewView()
	restored.Restore(v.Snapshot())
	d, _ := v.Digest()
	if rd, ok := restored.Digest(); !ok || *rd != *d {
		t.Fatal("a restored view's digest differs")
	}
	parsed, err := ParseViewDigest(d.String())
	if err != nil || *parsed != *d {
		t.Fatalf("header round trip: %v", err)
	}
	for _, bad := range []string{"", "2." + d.String()[2:], "1.abc", "1.7.abc", d.String() + "AA", "1.-1." + strings.SplitN(d.String(), ".", 3)[2]} {
		if _, err := ParseViewDigest(bad); err == nil {
			t.Errorf("ParseViewDigest(%.20q...) accepted", bad)
		}
	}
	if _, err := v.Apply(&Message{Type: MsgSelf, Seq: 9, Self: &Node{ID: 1, IsPending: true}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Digest(); ok {
		t.Fatal("a pending view offers a digest")
	}
}

// TestViewMark: the mark comes with the first message of a connection, is
// saved and restored, and is forgotten when a sync leaves a bucket wrong.
func TestViewMark(t *testing.T) {
	self := Node{ID: 1}
	p2 := peer(2, "10.9.0.2")
	p2moved := p2
	p2moved.Endpoint = "192.0.2.99"
	v := NewView()
	m := full(1, self, p2)
	m.Mark = 1000
	if _, err := v.Apply(m); err != nil {
		t.Fatal(err)
	}
	if d, _ := v.Digest(); d.Mark != 1000 {
		t.Fatalf("mark %d after a full view", d.Mark)
	}
	restored := NewView()
	restored.Restore(v.Snapshot())
	if d, _ := restored.Digest(); d.Mark != 1000 {
		t.Fatalf("restored mark %d", d.Mark)
	}
	bad := sync(1, self, []SyncBucket{sb(BucketOf(2), p2moved)})
	bad.Mark = 2000
	if _, err := v.Apply(bad); err == nil {
		t.Fatal("a sync leaving a bucket wrong was accepted")
	}
	if d, _ := v.Digest(); d.Mark != 0 {
		t.Fatalf("mark %d kept after a failed sync", d.Mark)
	}
	good := sync(1, self, []SyncBucket{sb(BucketOf(2), p2moved)}, p2moved)
	good.Mark = 3000
	if _, err := v.Apply(good); err != nil {
		t.Fatal(err)
	}
	if d, _ := v.Digest(); d.Mark != 3000 {
		t.Fatalf("mark %d after a sync", d.Mark)
	}
}
