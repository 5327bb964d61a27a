package wpatest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
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

// IEEE 802.11 Annex J.3 PRF test vectors (also in hostap's sha1-prf tests).
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
	}
	for _, tt := range tests {
		t.Run(tt.pass, func(t *testing.T) {
			pmk := PMK(tt.pass, tt.ssid)
			if got := hex.EncodeToString(pmk[:]); got != tt.want {
				t.Fatalf("PMK = %s, want %s", got, tt.want)
			}
		})
	}
}

// The MIC of a built message 2 is HMAC-SHA1 under the PTK's first 16
// bytes over the frame with the MIC zeroed, and the KCK is the PRF's
// first block.
func TestMessage2MIC(t *testing.T) {
	s := Station{AA: [6]byte{2, 0, 0, 0, 0, 1}, SPA: [6]byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}
	s.ANonce[0], s.SNonce[0] = 1, 2
	pmk := PMK("correct horse", "net")
	f := s.Message2(pmk, RSNE)
	if len(f) != 121 || f[1] != 3 || f[6] != 0x0a {
		t.Fatalf("frame % x", f)
	}
	zeroed := bytes.Clone(f)
	clear(zeroed[81:97])
	m := hmac.New(sha1.New, s.PTK(pmk)[:16])
	m.Write(zeroed)
	if !bytes.Equal(m.Sum(nil)[:16], f[81:97]) {
		t.Fatal("MIC is not HMAC-SHA1(KCK, frame)")
	}
	if !bytes.Equal(s.PTK(pmk)[:20], PRF(pmk[:], "Pairwise key expansion",
		append(append(append(append([]byte{}, s.AA[:]...), s.SPA[:]...), s.ANonce[:]...), s.SNonce[:]...), 20)) {
		t.Fatal("PTK is not ordered by min/max")
	}
}
