package wpa

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/radius/wpa/wpatest"
)

// IEEE 802.11 Annex J.4 passphrase-to-PSK vectors, and a 64-hex-digit
// passphrase, which is the PMK itself.
func TestPMKVectors(t *testing.T) {
	tests := []struct{ pass, ssid, want string }{
		{"password", "IEEE", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"},
		{"ThisIsAPassword", "ThisIsASSID", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"},
		{"f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e", "any", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"},
	}
	for _, tt := range tests {
		t.Run(tt.pass, func(t *testing.T) {
			pmk, err := PMK(tt.pass, []byte(tt.ssid))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(pmk[:]); got != tt.want {
				t.Fatalf("PMK = %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"short", string(bytes.Repeat([]byte("x"), 64))} {
		if _, err := PMK(bad, []byte("ssid")); err == nil {
			t.Errorf("PMK(%q) accepted", bad)
		}
	}
}

// The two-chain PBKDF2 agrees with crypto/pbkdf2 over every passphrase and
// SSID length, with and without the SHA extensions.
func TestPMKMatchesCryptoPBKDF2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ni := range []bool{hasSHANI, false} {
		t.Run(fmt.Sprintf("sha-extensions=%v", ni), func(t *testing.T) {
			defer func(v bool) { hasSHANI = v }(hasSHANI)
			hasSHANI = ni
			for plen := 8; plen <= 63; plen += 5 {
				for _, slen := range []int{1, 7, 31, 32} {
					pass := make([]byte, plen)
					ssid := make([]byte, slen)
					for i := range pass {
						pass[i] = byte(0x20 + rng.IntN(95))
					}
					for i := range ssid {
						ssid[i] = byte(rng.Uint32())
					}
					got, err := PMK(string(pass), ssid)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := pbkdf2.Key(sha1.New, string(pass), ssid, 4096, 32)
					if !bytes.Equal(got[:], want) {
						t.Fatalf("pass %d ssid %d: %x, want %x", plen, slen, got, want)
					}
				}
			}
		})
	}
}

func station() wpatest.Station {
	s := wpatest.Station{AA: [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, SPA: [6]byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}
	for i := range s.ANonce {
		s.ANonce[i], s.SNonce[i] = 0x11, 0x22
	}
	s.ANonce[31] = 0x99
	return s
}

// testKeys returns n distinct keys.
func testKeys(n int) []Key {
	keys := make([]Key, n)
	for i := range keys {
		var pmk [32]byte
		copy(pmk[:], fmt.Sprintf("pmk-%028d", i))
		keys[i] = *NewKey(pmk)
	}
	return keys
}

func handshake(s wpatest.Station, frame []byte) Handshake {
	return Handshake{AA: s.AA, SPA: s.SPA, ANonce: s.ANonce[:], Frame: frame}
}

// A message 2 built by the independent generator from a known passphrase
// matches exactly that passphrase's key, for both key descriptor versions.
func TestVerifierMatchesOnlyTheRightKey(t *testing.T) {
	for _, version := range []int{2, 1} {
		t.Run(fmt.Sprintf("version %d", version), func(t *testing.T) {
			s := station()
			s.Version = version
			right, _ := PMK("correct horse battery", []byte("netkeep-test"))
			wrong, _ := PMK("correct horse battery!", []byte("netkeep-test"))
			if right != wpatest.PMK("correct horse battery", "netkeep-test") {
				t.Fatal("PMK differs from the generator's")
			}
			frame := s.Message2(right, wpatest.RSNE)

			var v Verifier
			if err := v.Reset(handshake(s, frame)); err != nil {
				t.Fatal(err)
			}
			if !v.Match(NewKey(right)) {
				t.Fatal("right key does not match")
			}
			if v.Match(NewKey(wrong)) {
				t.Fatal("wrong key matches")
			}
			// Swapping the roles of the addresses must not matter (min/max order).
			swapped := s
			swapped.AA, swapped.SPA = s.SPA, s.AA
			if err := v.Reset(handshake(swapped, frame)); err != nil {
				t.Fatal(err)
			}
			if !v.Match(NewKey(right)) {
				t.Fatal("address order changed the result")
			}
			// A different ANonce is a different handshake.
			other := s
			other.ANonce[0] = 0x33
			if err := v.Reset(handshake(other, frame)); err != nil {
				t.Fatal(err)
			}
			if v.Match(NewKey(right)) {
				t.Fatal("matched with the wrong ANonce")
			}
		})
	}
}

// Below a step of lanes (9 keys) Find checks keys two at a time,
// whichever way it uses: wherever the right key is (even, odd, last of an
// odd count, absent), it is found, and tried says how many keys were
// checked. A set stop flag ends the search. TestFindEveryWayAndTail covers
// the lane steps.
func TestVerifierFind(t *testing.T) {
	s := station()
	keys := testKeys(9)
	tests := []struct {
		name      string
		n, at     int
		wantTried int
		frameFrom int // key index the station used; -1 a foreign one
	}{
		{"first", 9, 0, 2, 0},
		{"second", 9, 1, 2, 1},
		{"middle even", 9, 4, 6, 4},
		{"last of odd count", 9, 8, 9, 8},
		{"last of even count", 8, 7, 8, 7},
		{"foreign", 9, -1, 9, -1},
		{"none", 0, -1, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pmk := wpatest.PMK("a foreign passphrase", "net")
			if tt.frameFrom >= 0 {
				pmk = keys[tt.frameFrom].PMK
			}
			var v Verifier
			if err := v.Reset(handshake(s, s.Message2(pmk, wpatest.RSNE))); err != nil {
				t.Fatal(err)
			}
			found, tried := v.Find(keys[:tt.n], nil)
			if found != tt.at || tried != tt.wantTried {
				t.Fatalf("Find = %d, %d; want %d, %d", found, tried, tt.at, tt.wantTried)
			}
			var copied Verifier
			v.CopyTo(&copied)
			if found2, _ := copied.Find(keys[:tt.n], nil); found2 != tt.at {
				t.Fatalf("copy found %d", found2)
			}
		})
	}
	t.Run("stopped", func(t *testing.T) {
		var v Verifier
		if err := v.Reset(handshake(s, s.Message2(keys[8].PMK, wpatest.RSNE))); err != nil {
			t.Fatal(err)
		}
		var stop atomic.Bool
		stop.Store(true)
		if found, tried := v.Find(keys, &stop); found != -1 || tried != 0 {
			t.Fatalf("Find after stop = %d, %d", found, tried)
		}
	})
}

func TestVerifierRejectsMalformedFrames(t *testing.T) {
	s := station()
	good := s.Message2(wpatest.PMK("passphrase1", "s"), wpatest.RSNE)
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := map[string][]byte{
		"short":          good[:50],
		"not a key":      mutate(func(b []byte) []byte { b[1] = 0; return b }),
		"body too long":  mutate(func(b []byte) []byte { b[2], b[3] = 0xff, 0xff; return b }),
		"no MIC bit":     mutate(func(b []byte) []byte { b[5] = 0; return b }),
		"version 3":      mutate(func(b []byte) []byte { b[6] = 0x0b; return b }),
		"key data large": mutate(func(b []byte) []byte { b[97], b[98] = 0x10, 0; return b }),
	}
	for name, frame := range tests {
		t.Run(name, func(t *testing.T) {
			var v Verifier
			if err := v.Reset(handshake(s, frame)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	// A frame of the largest accepted size still checks right.
	rsne := bytes.Repeat([]byte{0xdd}, MaxFrameLen-99)
	pmk := wpatest.PMK("passphrase1", "s")
	var v Verifier
	if err := v.Reset(handshake(s, s.Message2(pmk, rsne))); err != nil {
		t.Fatal(err)
	}
	if !v.Match(NewKey(pmk)) {
		t.Fatal("largest frame does not match")
	}
}

// BenchmarkMatch is the cost per candidate of a search: one at a time
// (Match), two at a time (Find's pairs), each without the SHA extensions,
// the multi-buffer ways the CPU has, and the way Find chose.
func BenchmarkMatch(b *testing.B) {
	s := station()
	keys := testKeys(1000)
	frame := s.Message2(keys[999].PMK, wpatest.RSNE)
	// The straightforward check, for comparison: crypto/hmac keyed by each
	// PMK and KCK in turn, no state kept between candidates.
	b.Run("crypto-hmac", func(b *testing.B) {
		zeroed := bytes.Clone(frame)
		clear(zeroed[offMIC : offMIC+16])
		data := expansionData(append([]byte(pairwiseLabel), 0), s.AA, s.SPA, s.ANonce[:], s.SNonce[:])
		data = append(data, 0)
		b.ReportAllocs()
		c0 := cpuTime()
		for b.Loop() {
			found := false
			for i := range keys {
				m := hmac.New(sha1.New, keys[i].PMK[:])
				m.Write(data)
				kck := m.Sum(nil)[:16]
				m = hmac.New(sha1.New, kck)
				m.Write(zeroed)
				if hmac.Equal(m.Sum(nil)[:16], frame[offMIC:offMIC+16]) {
					found = true
				}
			}
			if !found {
				b.Fatal("no match")
			}
		}
		reportCandidate(b, c0, len(keys))
	})
	for _, ni := range []bool{true, false} {
		if ni && !hasSHANI {
			continue
		}
		name := map[bool]string{true: "sha-ni", false: "no-sha-ni"}[ni]
		b.Run("one-at-a-time/"+name, func(b *testing.B) {
			defer func(v bool) { hasSHANI = v }(hasSHANI)
			hasSHANI = ni
			benchCandidates(b, s, frame, keys, func(v *Verifier) bool {
				found := false
				for i := range keys {
					if v.Match(&keys[i]) {
						found = true
					}
				}
				return found
			})
		})
		b.Run("find/pairs-"+name, func(b *testing.B) {
			defer func(v bool) { hasSHANI = v }(hasSHANI)
			hasSHANI = ni
			benchFind(b, &pairWay, s, frame, keys)
		})
	}
	for _, w := range laneWays() {
		b.Run("find/"+w.name, func(b *testing.B) { benchFind(b, w, s, frame, keys) })
	}
	b.Run("find/chosen", func(b *testing.B) {
		b.Logf("SearchWay: %+v", SearchWay())
		benchFind(b, currentWay(), s, frame, keys)
	})
}

// benchFind times Find forced to way over keys, the last of which matches.
func benchFind(b *testing.B, way *laneWay, s wpatest.Station, frame []byte, keys []Key) {
	benchCandidates(b, s, frame, keys, func(v *Verifier) bool {
		i, _ := v.findWith(way, keys, nil)
		return i == len(keys)-1
	})
}

// benchCandidates times check over keys for the handshake of frame and
// reports the cost per candidate; check says whether it found the key.
func benchCandidates(b *testing.B, s wpatest.Station, frame []byte, keys []Key, check func(v *Verifier) bool) {
	var v Verifier
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		if err := v.Reset(handshake(s, frame)); err != nil {
			b.Fatal(err)
		}
		if !check(&v) {
			b.Fatal("no match")
		}
	}
	reportCandidate(b, c0, len(keys))
}

// BenchmarkPMK is one PMK derivation: netkeep's two-chain PBKDF2, eight
// at once in the AVX-512 lanes (DerivePMKs; per PMK), and crypto/pbkdf2
// for comparison.
func BenchmarkPMK(b *testing.B) {
	b.Run("wpa", func(b *testing.B) {
		c0 := cpuTime()
		for b.Loop() {
			if _, err := PMK("passphrase-00001234", []byte("netkeep")); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
	})
	if pbkdf2x16 != nil {
		b.Run("avx512-batch-of-8", func(b *testing.B) {
			defer func(o *laneWay) { wayOverride = o }(wayOverride)
			wayOverride = lanes16Way()
			jobs := make([]PMKJob, 8)
			c0 := cpuTime()
			for b.Loop() {
				for i := range jobs {
					jobs[i] = PMKJob{Passphrase: fmt.Sprintf("passphrase-%08d", i), SSID: []byte("netkeep")}
				}
				DerivePMKs(jobs)
				if jobs[7].Err != nil {
					b.Fatal(jobs[7].Err)
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(8*b.N)/1e6, "cpu-ms/pmk")
		})
	}
	b.Run("crypto-pbkdf2", func(b *testing.B) {
		c0 := cpuTime()
		for b.Loop() {
			if _, err := pbkdf2.Key(sha1.New, "passphrase-00001234", []byte("netkeep"), 4096, 32); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/op")
	})
}

// cpuTime is the CPU time this process used so far: on a machine shared
// with other work the wall clock of a benchmark measures the queue for
// the CPU as much as the code, its CPU time the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCandidate reports wall and CPU time per candidate since c0.
func reportCandidate(b *testing.B, c0 time.Duration, keys int) {
	n := float64(b.N) * float64(keys)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/candidate")
	b.ReportMetric(float64(cpuTime()-c0)/n, "cpu-ns/candidate")
}
