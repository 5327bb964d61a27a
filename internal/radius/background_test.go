package radius

import (
	"fmt"
	"testing"
	"time"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
	"netkeep/internal/radius/wpa/wpatest"
)

// A flush of more stations than a chunk writes every one of them, in calls
// of at most seenChunk rows; the next flush writes only those seen again at
// least seenResolution later.
func TestFlushSeenWritesEveryStationInChunks(t *testing.T) {
	const n = 2*seenChunk + 1234
	e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Generic))
	e.src.put(PSK{ID: 7, GroupID: 1, Name: "guest-1", Passphrase: passphrase, VLAN: 100, Enabled: true})
	for i := range n {
		e.src.putEndpoint(Endpoint{ID: int64(1 + i), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: 7, Enabled: true})
	}
	e.start(t)
	t0 := e.now.Unix()
	for i := range n {
		e.index.Seen(1, MAC(0x020000000000+i), t0+int64(i%7))
	}
	written, err := e.index.flushSeen(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if written != n {
		t.Fatalf("flush wrote %d rows, want %d", written, n)
	}
	e.src.mu.Lock()
	calls, touched := append([]int(nil), e.src.touches...), len(e.src.touched)
	for i := range n {
		want := time.Unix(t0+int64(i%7), 0).UTC()
		if got := e.src.touched[int64(1+i)]; !got.Equal(want) {
			e.src.mu.Unlock()
			t.Fatalf("endpoint %d: last_seen %v, want %v", 1+i, got, want)
		}
	}
	e.src.mu.Unlock()
	if touched != n {
		t.Fatalf("%d endpoints touched, want %d", touched, n)
	}
	sum := 0
	for _, c := range calls {
		if c == 0 || c > seenChunk {
			t.Fatalf("a TouchEndpoints call of %d rows (chunk %d): %v", c, seenChunk, calls)
		}
		sum += c
	}
	if sum != n || len(calls) < 3 {
		t.Fatalf("calls %v: %d rows in %d calls, want %d rows in at least 3", calls, sum, len(calls), n)
	}

	// Seen again too soon: nothing is due. Seen a resolution later: due.
	e.index.Seen(1, MAC(0x020000000000), t0+seenResolution-1)
	e.index.Seen(1, MAC(0x020000000001), t0+1+seenResolution)
	if written, err = e.index.flushSeen(t.Context()); err != nil || written != 1 {
		t.Fatalf("second flush wrote %d rows (error %v), want 1", written, err)
	}
	e.src.mu.Lock()
	got := e.src.touched[2]
	e.src.mu.Unlock()
	if want := time.Unix(t0+1+seenResolution, 0).UTC(); !got.Equal(want) {
		t.Fatalf("endpoint 2: last_seen %v, want %v", got, want)
	}
}

// The background derivation, which takes PMKs from the queue in batches
// (wpa.PMKBatch), gives every PSK its own PMK, checked against the
// independent generator: more PSKs than a batch, one with an invalid
// passphrase (logged, no key) and one that is a PMK in hex.
func TestBackgroundDerivationInBatches(t *testing.T) {
	const n = 19
	e := newEnv(t, nasClient(t, 1, "192.0.2.0/24", secret, nas.Hostapd, hsSSID))
	want := map[int64][32]byte{}
	for i := range n {
		pass := fmt.Sprintf("batch passphrase %02d", i)
		if i == 5 {
			pass = fmt.Sprintf("%064x", i)
		}
		e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: pass, Enabled: true})
		want[int64(i+1)] = wpatest.PMK(pass, hsSSID)
	}
	e.src.put(PSK{ID: 99, GroupID: 1, Passphrase: "short", Enabled: true})
	e.start(t)
	eventually(t, 30*time.Second, func() bool { return e.index.Candidates(1, []byte(hsSSID)).Len() == n }, "PMKs not derived")
	t.Logf("wpa.PMKBatch() = %d", wpa.PMKBatch())
	cs := e.index.Candidates(1, []byte(hsSSID))
	for i, c := range cs.Creds {
		if w, ok := want[c.PSKID]; !ok || cs.Keys[i].PMK != w {
			t.Fatalf("PSK %d: PMK %x, want %x", c.PSKID, cs.Keys[i].PMK, w)
		}
		delete(want, c.PSKID)
	}
	if len(want) != 0 {
		t.Fatalf("no PMK for %d PSKs", len(want))
	}
}
