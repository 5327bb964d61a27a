package wpa

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// IEEE 802.11 Annex J.3 PRF test vectors (also hostap's sha1-prf tests).
func TestPRFVectors(t *testing.T) {
	tests := []struct {
		name       string
		key        []byte
		label      string
		data, want string
	}{
		{"case 1", bytes.Repeat([]byte{0x0b}, 20), "prefix", "Hi There",
			"bcd4c650b30b9684951829e0d75f9d54b862175ed9f00606e17d8da35402ffee75df78c3d31e0f889f012120c0862beb67753e7439ae242edb8373698356cf5a"},
		{"case 2", []byte("Jefe"), "prefix", "what do ya want for nothing?",
			"51f4de5b33f249adf81aeb713a3c20f4fe631446fabdfa58244759ae58ef9009a99abf4eac2ca5fa87e692c440eb40023e7babb206d61de7b92f41529092b8fc"},
		{"case 2 prefix-2", []byte("Jefe"), "prefix-2", "what do ya want for nothing?",
			"47c4908e30c947521ad20be9053450ecbea23d3aa604b773"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.want)
			if got := PRF(tt.key, tt.label, []byte(tt.data), len(want)); !bytes.Equal(got, want) {
				t.Fatalf("PRF = %x, want %x", got, want)
			}
		})
	}
}

// IEEE 802.11 Annex J.4 passphrase-to-PSK vectors.
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

type fixture struct {
	aa, spa        [6]byte
	anonce, snonce []byte
}

func newFixture() fixture {
	f := fixture{
		aa:     [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
		spa:    [6]byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		anonce: bytes.Repeat([]byte{0x11}, 32),
		snonce: bytes.Repeat([]byte{0x22}, 32),
	}
	f.anonce[31] = 0x99
	return f
}

// A message 2 built from a known passphrase matches exactly that
// passphrase's key, and an independent PRF computes the same KCK.
func TestVerifierMatchesOnlyTheRightKey(t *testing.T) {
	fx := newFixture()
	ssid := []byte("netkeep-test")
	right, _ := PMK("correct horse battery", ssid)
	wrong, _ := PMK("correct horse battery!", ssid)
	frame := Message2(right, fx.aa, fx.spa, fx.anonce, fx.snonce, DefaultRSNE)

	var v Verifier
	if err := v.Reset(Handshake{AA: fx.aa, SPA: fx.spa, ANonce: fx.anonce, Frame: frame}); err != nil {
		t.Fatal(err)
	}
	if !v.Match(NewKey(right)) {
		t.Fatal("right key does not match")
	}
	if v.Match(NewKey(wrong)) {
		t.Fatal("wrong key matches")
	}
	// Swapping the roles of the addresses must not matter (min/max order).
	if err := v.Reset(Handshake{AA: fx.spa, SPA: fx.aa, ANonce: fx.anonce, Frame: frame}); err != nil {
		t.Fatal(err)
	}
	if !v.Match(NewKey(right)) {
		t.Fatal("address order changed the result")
	}
	// A different ANonce is a different handshake.
	other := bytes.Repeat([]byte{0x33}, 32)
	if err := v.Reset(Handshake{AA: fx.aa, SPA: fx.spa, ANonce: other, Frame: frame}); err != nil {
		t.Fatal(err)
	}
	if v.Match(NewKey(right)) {
		t.Fatal("matched with the wrong ANonce")
	}
}

func TestVerifierRejectsMalformedFrames(t *testing.T) {
	fx := newFixture()
	pmk, _ := PMK("passphrase1", []byte("s"))
	good := Message2(pmk, fx.aa, fx.spa, fx.anonce, fx.snonce, DefaultRSNE)
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
			if err := v.Reset(Handshake{AA: fx.aa, SPA: fx.spa, ANonce: fx.anonce, Frame: frame}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	fx := newFixture()
	keys := make([]*Key, 1000)
	for i := range keys {
		var pmk [32]byte
		copy(pmk[:], fmt.Sprintf("pmk-%028d", i))
		keys[i] = NewKey(pmk)
	}
	frame := Message2(keys[999].PMK, fx.aa, fx.spa, fx.anonce, fx.snonce, DefaultRSNE)
	var v Verifier
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Reset(Handshake{AA: fx.aa, SPA: fx.spa, ANonce: fx.anonce, Frame: frame}); err != nil {
			b.Fatal(err)
		}
		found := false
		for _, k := range keys {
			if v.Match(k) {
				found = true
			}
		}
		if !found {
			b.Fatal("no match")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(keys)), "ns/candidate")
}
