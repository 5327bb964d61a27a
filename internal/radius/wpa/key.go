package wpa

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding"
	"encoding/hex"
	"errors"
	"hash"
)

// PMKLen is the length of a pairwise master key.
const PMKLen = 32

// PMK derives the pairwise master key of passphrase on ssid. A passphrase of
// exactly 64 hex digits is the PMK itself, as IEEE 802.11 defines it.
func PMK(passphrase string, ssid []byte) ([PMKLen]byte, error) {
	var pmk [PMKLen]byte
	if len(passphrase) == 2*PMKLen {
		if _, err := hex.Decode(pmk[:], []byte(passphrase)); err == nil {
			return pmk, nil
		}
	}
	if len(passphrase) < 8 || len(passphrase) > 63 {
		return pmk, errors.New("wpa: passphrase must be 8..63 characters or 64 hex digits")
	}
	if len(ssid) == 0 || len(ssid) > 32 {
		return pmk, errors.New("wpa: SSID must be 1..32 bytes")
	}
	k, err := pbkdf2.Key(sha1.New, passphrase, ssid, 4096, PMKLen)
	if err != nil {
		return pmk, err
	}
	copy(pmk[:], k)
	return pmk, nil
}

// stateLen is the size of a marshalled SHA-1 state (checked in init).
const stateLen = 96

// Key is a PMK prepared for handshake checks: the SHA-1 states after the
// HMAC inner and outer pads, so the per-request HMAC skips two blocks. It is
// immutable and safe to share between goroutines.
type Key struct {
	PMK   [PMKLen]byte
	inner [stateLen]byte
	outer [stateLen]byte
}

// NewKey prepares pmk.
func NewKey(pmk [PMKLen]byte) *Key {
	k := &Key{PMK: pmk}
	var pad [sha1.BlockSize]byte
	h := sha1.New()
	for i := range pad {
		pad[i] = 0x36
	}
	for i, b := range pmk {
		pad[i] ^= b
	}
	h.Write(pad[:])
	saveState(h, k.inner[:])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:])
	saveState(h, k.outer[:])
	return k
}

func saveState(h hash.Hash, dst []byte) {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || len(b) != len(dst) {
		panic("wpa: unexpected SHA-1 state encoding")
	}
	copy(dst, b)
}

func init() {
	b, err := sha1.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || len(b) != stateLen {
		panic("wpa: SHA-1 state is not 96 bytes on this Go version")
	}
}
