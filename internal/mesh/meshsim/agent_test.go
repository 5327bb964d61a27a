package meshsim_test

import (
	"encoding/json"
	"slices"
	"testing"

	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/meshwire"
)

// The simulated agent and a real agent's view (meshwire.View, which
// internal/agent keeps) end with the same peers after the same messages,
// pending nodes included; the simulation only adds that it reports what
// the view tolerates.
func TestAgreesWithTheAgentsView(t *testing.T) {
	self := meshwire.Node{ID: 1, Address: "10.9.0.1"}
	pending := meshwire.Node{ID: 1, Address: "10.9.0.1", IsPending: true}
	net := &meshwire.Network{NetID: "n", AddressRange: "10.9.0.0/24"}
	p2, p3 := meshwire.Peer{ID: 2, PublicKey: "k2"}, meshwire.Peer{ID: 3, PublicKey: "k3"}
	tests := map[string]struct {
		msgs      []meshwire.Message
		wantPeers []int64
		violation bool // the simulation reports the last message
	}{
		"full view and deltas": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 1, Network: net, Self: &self, Peers: []meshwire.Peer{p2}},
			{Type: meshwire.MsgUpsert, Seq: 2, Peer: &p3},
			{Type: meshwire.MsgRemove, Seq: 3, ID: 2},
		}, wantPeers: []int64{3}},
		"becoming pending drops the peers": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 1, Network: net, Self: &self, Peers: []meshwire.Peer{p2, p3}},
			{Type: meshwire.MsgSelf, Seq: 2, Self: &pending},
		}, wantPeers: nil},
		"a pending node's full view has no peers": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 1, Network: net, Self: &pending, Peers: []meshwire.Peer{p2}},
		}, wantPeers: nil, violation: true},
		"remove of an unknown peer": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 1, Network: net, Self: &self, Peers: []meshwire.Peer{p2}},
			{Type: meshwire.MsgRemove, Seq: 2, ID: 9},
		}, wantPeers: []int64{2}, violation: true},
		"a sync replaces its buckets only": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 1, Network: net, Self: &self, Peers: []meshwire.Peer{p2, p3}},
			{Type: meshwire.MsgSync, Seq: 1, Network: net, Self: &self, Buckets: []meshwire.SyncBucket{{Bucket: meshwire.BucketOf(2), IDs: []int64{}}}},
		}, wantPeers: []int64{3}},
		"a sync listing a peer outside its buckets": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 1, Network: net, Self: &self, Peers: []meshwire.Peer{p2}},
			{Type: meshwire.MsgSync, Seq: 1, Network: net, Self: &self, Peers: []meshwire.Peer{p3}},
		}, wantPeers: []int64{2}, violation: true},
		"sequence going back": {msgs: []meshwire.Message{
			{Type: meshwire.MsgFull, Seq: 5, Network: net, Self: &self, Peers: []meshwire.Peer{p2}},
			{Type: meshwire.MsgUpsert, Seq: 5, Peer: &p3},
		}, wantPeers: []int64{2}, violation: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sim, view := meshsim.New(), meshwire.NewView()
			var simErr, viewErr error
			for _, m := range tc.msgs {
				raw, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				simErr = sim.Apply(raw)
				var eff meshwire.Effect
				if eff, viewErr = view.Apply(&m); viewErr == nil {
					viewErr = eff.Ignored
				}
			}
			var simPeers, viewPeers []int64
			for id := range sim.Peers() {
				simPeers = append(simPeers, id)
			}
			slices.Sort(simPeers)
			for _, p := range view.Peers() {
				viewPeers = append(viewPeers, p.ID)
			}
			if !slices.Equal(simPeers, tc.wantPeers) || !slices.Equal(viewPeers, tc.wantPeers) {
				t.Errorf("peers: simulation %v, agent's view %v, want %v", simPeers, viewPeers, tc.wantPeers)
			}
			if (simErr != nil) != tc.violation || (viewErr != nil) != tc.violation {
				t.Errorf("last message: simulation %v, agent's view %v, want a violation: %v", simErr, viewErr, tc.violation)
			}
		})
	}
}
