// Package wpatest stands in for a WPA2 station in tests and benchmarks: it
// builds the EAPOL-Key message 2 a station sends after message 1, with the
// MIC under a given passphrase. It is written apart from package wpa on
// purpose, with its own PRF and MIC code over crypto/hmac and the PMK from
// crypto/pbkdf2, and checked against the IEEE 802.11 test vectors, so that
// a mistake in wpa's optimised code cannot hide behind the same mistake in
// the test's generator. It must never import package wpa.
package wpatest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// RSNE is the RSN element of a WPA2-Personal station: CCMP group and
// pairwise cipher, AKM 2 (PSK).
var RSNE = []byte{0x30, 0x14, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04,
	0x01, 0x00, 0x00, 0x0f, 0xac, 0x02, 0x00, 0x00}

// PMK is PBKDF2-HMAC-SHA1(passphrase, ssid, 4096, 32) (IEEE 802.11 J.4),
// or the passphrase itself when it is 64 hex digits.
func PMK(passphrase, ssid string) [32]byte {
	var pmk [32]byte
	if len(passphrase) == 64 {
		if _, err := hex.Decode(pmk[:], []byte(passphrase)); err == nil {
			return pmk
		}
	}
	k, err := pbkdf2.Key(sha1.New, passphrase, []byte(ssid), 4096, 32)
	if err != nil {
		panic(fmt.Sprintf("wpatest: PMK: %v", err))
	}
	return [32]byte(k)
}

// PRF is IEEE 802.11's PRF-n with HMAC-SHA1 (11.6.1.2): n bytes of
// HMAC-SHA1(key, label | 0 | data | i) for i = 0, 1, ...
func PRF(key []byte, label string, data []byte, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		m := hmac.New(sha1.New, key)
		m.Write([]byte(label))
		m.Write([]byte{0})
		m.Write(data)
		m.Write([]byte{byte(i)})
		out = m.Sum(out)
	}
	return out[:n]
}

// Station is one side of a handshake: its address and nonce, the access
// point's address and nonce.
type Station struct {
	AA, SPA        [6]byte
	ANonce, SNonce [32]byte
	// Version is the key descriptor version: 2 (HMAC-SHA1 MIC, the
	// default when 0) or 1 (HMAC-MD5, WPA with TKIP).
	Version int
}

// PTK is the pairwise transient key: PRF-384(PMK, "Pairwise key
// expansion", min(AA,SPA) | max(AA,SPA) | min(AN,SN) | max(AN,SN)).
func (s Station) PTK(pmk [32]byte) []byte {
	lo, hi := s.AA[:], s.SPA[:]
	if string(hi) < string(lo) {
		lo, hi = hi, lo
	}
	nlo, nhi := s.ANonce[:], s.SNonce[:]
	if string(nhi) < string(nlo) {
		nlo, nhi = nhi, nlo
	}
	var data []byte
	data = append(data, lo...)
	data = append(data, hi...)
	data = append(data, nlo...)
	data = append(data, nhi...)
	return PRF(pmk[:], "Pairwise key expansion", data, 48)
}

// Message2 builds EAPOL-Key message 2 (802.1X-2004 header, RSN key
// descriptor, replay counter 1, rsne as key data) with its MIC under pmk.
func (s Station) Message2(pmk [32]byte, rsne []byte) []byte {
	version := s.Version
	if version == 0 {
		version = 2
	}
	body := 95 + len(rsne)
	f := make([]byte, 4+body)
	f[0], f[1] = 2, 3 // 802.1X-2004, EAPOL-Key
	binary.BigEndian.PutUint16(f[2:], uint16(body))
	f[4] = 2                                                  // RSN key descriptor
	binary.BigEndian.PutUint16(f[5:], 0x0108|uint16(version)) // MIC, pairwise
	f[16] = 1                                                 // replay counter
	copy(f[17:], s.SNonce[:])
	binary.BigEndian.PutUint16(f[97:], uint16(len(rsne)))
	copy(f[99:], rsne)
	kck := s.PTK(pmk)[:16]
	h := sha1.New
	if version == 1 {
		h = md5.New
	}
	m := hmac.New(h, kck)
	m.Write(f) // MIC field still zero
	copy(f[81:97], m.Sum(nil)[:16])
	return f
}
