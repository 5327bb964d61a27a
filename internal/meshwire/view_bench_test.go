package meshwire

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkViewApply measures what an agent spends per stream message:
// one upsert to a view of n peers (encoding it too, as the sequence number
// must grow), and decoding and applying the full view of n peers a
// connection starts with.
func BenchmarkViewApply(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		peers := make([]Peer, n)
		for i := range peers {
			peers[i] = peer(int64(i+2), fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff))
		}
		self := Node{ID: 1, Address: "10.255.255.254"}
		full, err := json.Marshal(&Message{Type: MsgFull, Seq: 1, Self: &self, Network: &Network{NetID: "n"}, Peers: peers})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("upsert/%d peers", n), func(b *testing.B) {
			v := NewView()
			var m Message
			if err := json.Unmarshal(full, &m); err != nil {
				b.Fatal(err)
			}
			if _, err := v.Apply(&m); err != nil {
				b.Fatal(err)
			}
			moved := peers[n/2]
			moved.Endpoint = "192.0.2.77"
			seq := uint64(1)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				raw, _ := json.Marshal(&Message{Type: MsgUpsert, Seq: seq, Peer: &moved})
				var u Message
				if err := json.Unmarshal(raw, &u); err != nil {
					b.Fatal(err)
				}
				if _, err := v.Apply(&u); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("full/%d peers", n), func(b *testing.B) {
			v := NewView()
			b.SetBytes(int64(len(full)))
			b.ReportAllocs()
			for b.Loop() {
				var m Message
				if err := json.Unmarshal(full, &m); err != nil {
					b.Fatal(err)
				}
				v.Reset()
				if _, err := v.Apply(&m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
