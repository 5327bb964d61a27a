package radius

import (
	"testing"
	"time"

	"layeh.com/radius"

	"netkeep/internal/radius/nas"
)

// An endpoint's own expiry (kept in 32 bits) bounds the session when it is
// earlier than the PSK's, and rejects the station once passed.
func TestEndpointExpiry(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Duration // from now; 0: never
		want    radius.Code
		timeout uint32 // Session-Timeout of an accept
	}{
		{"200/earlier than the PSK", 10 * time.Minute, radius.CodeAccessAccept, 600},
		{"200/later than the PSK", 2 * time.Hour, radius.CodeAccessAccept, 3600},
		{"200/never", 0, radius.CodeAccessAccept, 3600},
		{"reject/passed", -time.Second, radius.CodeAccessReject, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Generic))
			e.src.put(PSK{ID: 7, GroupID: 1, Passphrase: passphrase, Enabled: true, ExpiresAt: e.now.Add(time.Hour)})
			ep := Endpoint{ID: 70, GroupID: 1, MAC: 0xaabbccddeeff, PSKID: 7, Enabled: true}
			if tt.expires != 0 {
				ep.ExpiresAt = e.now.Add(tt.expires)
			}
			e.src.putEndpoint(ep)
			e.start(t)
			req := macAuth(t, secret, station, true)
			p := parseResponse(t, e.exchange(t, testAddr, req, true), req, secret)
			if p.Code != tt.want {
				t.Fatalf("code %v, want %v", p.Code, tt.want)
			}
			if tt.want != radius.CodeAccessAccept {
				return
			}
			if st, _ := radius.Integer(p.Get(attrSessionTimeout)); st != tt.timeout {
				t.Fatalf("Session-Timeout %d, want %d", st, tt.timeout)
			}
		})
	}
}

// A full reload's loader keeps one record per station: a station streamed
// twice keeps its later endpoint, and the earlier slot is left free (pskID
// 0) for reuse, as removeLocked leaves it.
func TestEndpointLoaderKeepsTheLaterDuplicate(t *testing.T) {
	x := &Index{}
	var l endpointLoader
	l.add(x, Endpoint{ID: 1, GroupID: 1, MAC: 0xa, PSKID: 7, Enabled: true})
	l.add(x, Endpoint{ID: 2, GroupID: 1, MAC: 0xb, PSKID: 7, Enabled: true})
	l.add(x, Endpoint{ID: 2, GroupID: 2, MAC: 0xa, PSKID: 8, Enabled: true})
	l.add(x, Endpoint{ID: 3, GroupID: 1, MAC: 0xa, PSKID: 9, VLAN: 30, Enabled: true})
	shards, n, maxID := l.done()
	if n != 3 || maxID != 3 {
		t.Fatalf("loaded %d stations, max id %d; want 3, 3", n, maxID)
	}
	want := map[epKey]int64{{1, 0xa}: 3, {1, 0xb}: 2, {2, 0xa}: 2}
	free := 0
	for i := range shards {
		s := &shards[i]
		free += len(s.free)
		for _, slot := range s.free {
			if s.recs[slot].pskID != 0 {
				t.Fatalf("free slot %d holds %+v", slot, s.recs[slot])
			}
		}
		for k, slot := range s.m {
			if x.epIndex(k) != i {
				t.Fatalf("station %v in shard %d, want %d", k, i, x.epIndex(k))
			}
			if r := s.recs[slot]; r.id != want[k] {
				t.Fatalf("station %v holds endpoint %d, want %d", k, r.id, want[k])
			}
			delete(want, k)
		}
	}
	if len(want) != 0 || free != 1 {
		t.Fatalf("stations missing: %v; free slots %d, want 1", want, free)
	}
	for i := range l.recs {
		if l.recs[i] != nil || l.keys[i] != nil {
			t.Fatal("the loader still holds its records")
		}
	}
}
