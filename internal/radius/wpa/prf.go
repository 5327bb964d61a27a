package wpa

import (
	"crypto/hmac"
	"crypto/sha1"
)

// PRF is the IEEE 802.11 pseudo-random function PRF-n with HMAC-SHA1:
// n bytes of HMAC-SHA1(key, label | 0 | data | i) for i = 0, 1, ...
func PRF(key []byte, label string, data []byte, n int) []byte {
	out := make([]byte, 0, n+sha1.Size)
	msg := make([]byte, 0, len(label)+1+len(data)+1)
	msg = append(msg, label...)
	msg = append(msg, 0)
	msg = append(msg, data...)
	msg = append(msg, 0)
	mac := hmac.New(sha1.New, key)
	for i := byte(0); len(out) < n; i++ {
		msg[len(msg)-1] = i
		mac.Reset()
		mac.Write(msg)
		out = mac.Sum(out)
	}
	return out[:n]
}

// pairwiseLabel is the PTK derivation label.
const pairwiseLabel = "Pairwise key expansion"

// expansionData returns min(AA,SPA) | max(AA,SPA) | min(AN,SN) | max(AN,SN).
func expansionData(dst []byte, aa, spa [6]byte, anonce, snonce []byte) []byte {
	if lessBytes(spa[:], aa[:]) {
		aa, spa = spa, aa
	}
	dst = append(dst, aa[:]...)
	dst = append(dst, spa[:]...)
	if lessBytes(snonce, anonce) {
		anonce, snonce = snonce, anonce
	}
	dst = append(dst, anonce...)
	return append(dst, snonce...)
}

func lessBytes(a, b []byte) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// PTK derives the 48-byte CCMP pairwise transient key (KCK | KEK | TK).
func PTK(pmk [PMKLen]byte, aa, spa [6]byte, anonce, snonce []byte) []byte {
	return PRF(pmk[:], pairwiseLabel, expansionData(nil, aa, spa, anonce, snonce), 48)
}
