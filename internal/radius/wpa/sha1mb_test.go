package wpa

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unsafe"

	"netkeep/internal/radius/wpa/wpatest"
)

// The assembly gathers a Key's pad states at fixed offsets
// (sha1mb_gen.go's offInner, offOuter, keySize).
func TestKeyLayout(t *testing.T) {
	var k Key
	if o, i, s := unsafe.Offsetof(k.inner), unsafe.Offsetof(k.outer), unsafe.Sizeof(k); o != 32 || i != 52 || s != 72 {
		t.Fatalf("Key layout: inner %d, outer %d, size %d; sha1mb_gen.go assumes 32, 52, 72", o, i, s)
	}
}

// forEachWay runs f once per way this CPU can run, forced.
func forEachWay(t *testing.T, f func(t *testing.T, w *laneWay)) {
	t.Helper()
	for _, w := range availableWays() {
		t.Run(w.name, func(t *testing.T) {
			defer func(o *laneWay) { wayOverride = o }(wayOverride)
			wayOverride = w
			f(t, w)
		})
	}
	if len(laneWays()) == 0 {
		t.Log("no multi-buffer way on this CPU: only pairs tested")
	}
}

// randomFrame is a well-formed message 2 of total length n with random
// contents (key data of n-99 bytes), so that every block count the frame
// can take is exercised.
func randomFrame(rng *rand.Rand, n int) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = byte(rng.Uint32())
	}
	f[1] = 3
	binary.BigEndian.PutUint16(f[2:], uint16(n-4))
	binary.BigEndian.PutUint16(f[offKeyInfo:], 1<<8|1<<3|2)
	binary.BigEndian.PutUint16(f[offDataLen:], uint16(n-99))
	return f
}

// referenceMIC is HMAC-SHA1(KCK, frame with the MIC zeroed)[:16], the KCK
// being PRF-384(PMK)'s first 16 bytes: crypto/hmac and crypto/sha1 through
// the independent generator's PRF.
func referenceMIC(pmk [32]byte, h Handshake) []byte {
	data := expansionData(nil, h.AA, h.SPA, h.ANonce, h.Frame[offNonce:offNonce+32])
	kck := wpatest.PRF(pmk[:], pairwiseLabel, data, 16)
	zeroed := bytes.Clone(h.Frame)
	clear(zeroed[offMIC : offMIC+16])
	m := hmac.New(sha1.New, kck)
	m.Write(zeroed)
	return m.Sum(nil)[:16]
}

// Every multi-buffer way computes, in every lane, the MIC crypto/hmac
// computes, for random keys, addresses, nonces and frames of every length
// from the shortest to the longest accepted; the mask marks exactly the
// lanes whose MIC is the frame's.
func TestLanesMatchCryptoHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ways := laneWays()
	if len(ways) == 0 {
		t.Skip("no multi-buffer way on this CPU")
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			for n := minFrameLen; n <= MaxFrameLen; n += 1 + rng.IntN(23) {
				keys := make([]Key, w.lanes)
				for i := range keys {
					var pmk [32]byte
					for j := range pmk {
						pmk[j] = byte(rng.Uint32())
					}
					keys[i] = *NewKey(pmk)
				}
				h := Handshake{ANonce: make([]byte, 32), Frame: randomFrame(rng, n)}
				for i := range 6 {
					h.AA[i], h.SPA[i] = byte(rng.Uint32()), byte(rng.Uint32())
				}
				for i := range h.ANonce {
					h.ANonce[i] = byte(rng.Uint32())
				}
				right := rng.IntN(w.lanes)
				copy(h.Frame[offMIC:], referenceMIC(keys[right].PMK, h))
				var v Verifier
				if err := v.Reset(h); err != nil {
					t.Fatal(err)
				}
				v.prepareLanes()
				var out [4][16]uint32
				mask := w.match(&v, keys, &out)
				for l := range w.lanes {
					want := referenceMIC(keys[l].PMK, h)
					var got [16]byte
					for i := range 4 {
						binary.BigEndian.PutUint32(got[4*i:], out[i][l])
					}
					if !bytes.Equal(got[:], want) {
						t.Fatalf("frame %d bytes, lane %d: MIC %x, want %x", n, l, got, want)
					}
				}
				if mask != 1<<right {
					t.Fatalf("frame %d bytes: mask %b, want lane %d", n, mask, right)
				}
			}
		})
	}
}

// Find finds the key wherever it sits among n keys, for every n up to a
// few steps of every way (so every tail length after the full steps), and
// reports as tried the keys up to the end of the step that found it, or
// all of them.
func TestFindEveryWayAndTail(t *testing.T) {
	keys := testKeys(50)
	s := station()
	frames := make([][]byte, len(keys)+1)
	for i := range keys {
		frames[i] = s.Message2(keys[i].PMK, wpatest.RSNE)
	}
	frames[len(keys)] = s.Message2(wpatest.PMK("a foreign passphrase", "net"), wpatest.RSNE)
	forEachWay(t, func(t *testing.T, w *laneWay) {
		var v Verifier
		for n := 0; n <= len(keys); n++ {
			for at := -1; at < n; at++ {
				frame := frames[len(keys)]
				if at >= 0 {
					frame = frames[at]
				}
				if err := v.Reset(handshake(s, frame)); err != nil {
					t.Fatal(err)
				}
				found, tried := v.Find(keys[:n], nil)
				if found != at || tried != wantTried(w.lanes, at, n) {
					t.Fatalf("%d keys, right at %d: Find = %d, %d; want %d, %d", n, at, found, tried, at, wantTried(w.lanes, at, n))
				}
			}
		}
	})
}

// wantTried is Find's documented count: full steps of lanes while lanes
// keys remain, then pairs, then the last key alone.
func wantTried(lanes, at, n int) int {
	if at < 0 {
		return n
	}
	full := n / lanes * lanes
	if lanes == 2 || at < full {
		if end := (at/lanes + 1) * lanes; end <= full {
			return end
		}
	}
	return min(n, full+((at-full)/2+1)*2)
}

// FuzzFindWays cross-checks every way's Find against the two-at-a-time
// path on random key sets, positions and frame lengths.
func FuzzFindWays(f *testing.F) {
	f.Add(uint64(1), uint8(40), uint8(17), uint16(0))
	f.Add(uint64(2), uint8(16), uint8(255), uint16(800))
	f.Add(uint64(3), uint8(33), uint8(32), uint16(925))
	f.Fuzz(func(t *testing.T, seed uint64, n, at uint8, extra uint16) {
		rng := rand.New(rand.NewPCG(seed, 7))
		keys := make([]Key, int(n)%70)
		for i := range keys {
			var pmk [32]byte
			binary.BigEndian.PutUint64(pmk[:], rng.Uint64())
			keys[i] = *NewKey(pmk)
		}
		frameLen := minFrameLen + int(extra)%(MaxFrameLen-minFrameLen+1)
		h := Handshake{AA: [6]byte{byte(seed)}, SPA: [6]byte{1, byte(seed >> 8)}, ANonce: make([]byte, 32), Frame: randomFrame(rng, frameLen)}
		if int(at) < len(keys) {
			copy(h.Frame[offMIC:], referenceMIC(keys[at].PMK, h))
		}
		var v Verifier
		if err := v.Reset(h); err != nil {
			t.Fatal(err)
		}
		wantFound, _ := v.findWith(&pairWay, keys, nil)
		for _, w := range availableWays() {
			found, tried := v.findWith(w, keys, nil)
			if found != wantFound || tried != wantTried(w.lanes, found, len(keys)) {
				t.Fatalf("%s, %d keys, frame %d: Find = %d, %d; pairs found %d", w.name, len(keys), frameLen, found, tried, wantFound)
			}
		}
	})
}

// The measured choice is one of the ways this CPU can run.
func TestSearchWayIsAvailable(t *testing.T) {
	w := SearchWay()
	for _, a := range availableWays() {
		if a.lanes == w.Lanes {
			t.Logf("Find uses %s (%d lanes); available: %d ways", w.Name, w.Lanes, len(availableWays()))
			return
		}
	}
	t.Fatalf("SearchWay() = %+v: not available here", w)
}
