package wpa

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
)

// PMKLen is the length of a pairwise master key.
const PMKLen = 32

// pbkdf2Rounds is WPA2's iteration count (IEEE 802.11 J.4).
const pbkdf2Rounds = 4096

// PMK derives the pairwise master key of passphrase on ssid. A passphrase of
// exactly 64 hex digits is the PMK itself, as IEEE 802.11 defines it.
func PMK(passphrase string, ssid []byte) ([PMKLen]byte, error) {
	pmk, direct, err := pmkWithoutPBKDF2(passphrase, ssid)
	if direct || err != nil {
		return pmk, err
	}
	return pbkdf2SHA1(passphrase, ssid), nil
}

// pmkWithoutPBKDF2 is PMK's checks: the PMK itself when the passphrase is
// 64 hex digits (direct), an error when PMK cannot derive one, else
// neither (PBKDF2 is needed).
func pmkWithoutPBKDF2(passphrase string, ssid []byte) (pmk [PMKLen]byte, direct bool, err error) {
	if len(passphrase) == 2*PMKLen {
		if _, err := hex.Decode(pmk[:], []byte(passphrase)); err == nil {
			return pmk, true, nil
		}
	}
	if len(passphrase) < 8 || len(passphrase) > 63 {
		return pmk, false, errors.New("wpa: passphrase must be 8..63 characters or 64 hex digits")
	}
	if len(ssid) == 0 || len(ssid) > 32 {
		return pmk, false, errors.New("wpa: SSID must be 1..32 bytes")
	}
	return pmk, false, nil
}

// pbkdf2SHA1 is PBKDF2-HMAC-SHA1(passphrase, ssid, 4096, 32 bytes) for a
// passphrase shorter than a block and an SSID of at most 32 bytes. The two
// output blocks T1 and T2 are independent chains of 4096 HMACs, computed
// side by side (block2) from the key's pad states, so each iteration is two
// compressions per chain and nothing else: about twice as fast as
// crypto/pbkdf2, which hashes through hash.Hash.
func pbkdf2SHA1(passphrase string, ssid []byte) [PMKLen]byte {
	inner, outer, u1, u2 := pbkdf2First(passphrase, ssid)
	var m1, m2 [64]byte
	padDigestBlock(&m1)
	padDigestBlock(&m2)
	t1, t2 := u1, u2
	for range pbkdf2Rounds - 1 {
		putDigest(m1[:], &u1)
		putDigest(m2[:], &u2)
		h1, h2 := inner, inner
		block2(&h1, &m1, &h2, &m2)
		putDigest(m1[:], &h1)
		putDigest(m2[:], &h2)
		u1, u2 = outer, outer
		block2(&u1, &m1, &u2, &m2)
		for i := range t1 {
			t1[i] ^= u1[i]
			t2[i] ^= u2[i]
		}
	}
	var out [2 * 20]byte
	putDigest(out[:], &t1)
	putDigest(out[20:], &t2)
	return [PMKLen]byte(out[:PMKLen])
}

// pbkdf2First returns the passphrase's HMAC pad states and the first
// iteration of both output blocks' chains: U1 = HMAC(P, SSID | INT(i)).
func pbkdf2First(passphrase string, ssid []byte) (inner, outer, u1, u2 [5]uint32) {
	inner, outer = padStates([]byte(passphrase))
	var m1, m2 [64]byte
	n := copy(m1[:], ssid)
	binary.BigEndian.PutUint32(m1[n:], 1)
	m1[n+4] = 0x80
	binary.BigEndian.PutUint64(m1[56:], uint64(64+n+4)*8)
	m2 = m1
	m2[n+3] = 2
	h1, h2 := inner, inner
	block2(&h1, &m1, &h2, &m2)
	padDigestBlock(&m1)
	padDigestBlock(&m2)
	putDigest(m1[:], &h1)
	putDigest(m2[:], &h2)
	u1, u2 = outer, outer
	block2(&u1, &m1, &u2, &m2)
	return inner, outer, u1, u2
}

// padStates returns the SHA-1 states after HMAC's inner and outer pads of
// key (at most 64 bytes).
func padStates(key []byte) (inner, outer [5]uint32) {
	var pad [64]byte
	for i := range pad {
		pad[i] = 0x36
	}
	for i, b := range key {
		pad[i] ^= b
	}
	inner = sha1IV
	block(&inner, &pad)
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	outer = sha1IV
	block(&outer, &pad)
	return inner, outer
}

// Key is a PMK prepared for handshake checks: the SHA-1 states after the
// HMAC inner and outer pads, so the per-request HMAC skips two blocks. It
// is 72 bytes, held by value in the candidate lists so that a scan walks
// memory in order. Immutable once made; safe to share.
type Key struct {
	PMK   [PMKLen]byte
	inner [5]uint32
	outer [5]uint32
}

// NewKey prepares pmk.
func NewKey(pmk [PMKLen]byte) *Key {
	k := &Key{PMK: pmk}
	k.inner, k.outer = padStates(pmk[:])
	return k
}
