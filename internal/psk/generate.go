package psk

import (
	"crypto/rand"
	"encoding/hex"
)

// PassphraseAlphabet is what generated passphrases are drawn from: letters
// and digits without the look-alikes 0 O o 1 l I, so a guest can copy one
// from a printed card. 56 symbols: 5.8 bits each.
const PassphraseAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

// GeneratedLen is the length of generated passphrases: about 70 bits.
const GeneratedLen = 12

// NewPassphrase returns n characters of PassphraseAlphabet from crypto/rand,
// uniformly: bytes at or above the largest multiple of the alphabet size are
// rejected, so there is no modulo bias.
func NewPassphrase(n int) string {
	const size = len(PassphraseAlphabet)
	const limit = 256 - 256%size
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:]) // never fails on supported platforms
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, PassphraseAlphabet[int(b)%size])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// newPSKName returns "guest-" and 8 random hex digits.
func newPSKName() string { return "guest-" + randomHex(4) }

// newSealID returns the random per-row id a passphrase is sealed under.
func newSealID() string { return randomHex(12) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}
