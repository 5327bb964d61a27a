package wpa

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
)

// DefaultRSNE is the RSN element of a WPA2-Personal station: CCMP group and
// pairwise cipher, AKM 2 (PSK).
var DefaultRSNE = []byte{0x30, 0x14, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x04,
	0x01, 0x00, 0x00, 0x0f, 0xac, 0x02, 0x00, 0x00}

// Message2 builds EAPOL-Key message 2 as a station would send it after
// message 1 (key descriptor version 2, replay counter 1, rsne as key data),
// with its MIC under pmk. Tests and load generators use it to stand in for a
// station.
func Message2(pmk [PMKLen]byte, aa, spa [6]byte, anonce, snonce, rsne []byte) []byte {
	body := 95 + len(rsne)
	f := make([]byte, 4+body)
	f[0], f[1] = 2, 3 // 802.1X-2004, EAPOL-Key
	binary.BigEndian.PutUint16(f[2:], uint16(body))
	f[4] = 2                                           // RSN key descriptor
	binary.BigEndian.PutUint16(f[offKeyInfo:], 0x010a) // MIC, pairwise, version 2
	f[16] = 1                                          // replay counter
	copy(f[offNonce:], snonce)
	binary.BigEndian.PutUint16(f[offDataLen:], uint16(len(rsne)))
	copy(f[99:], rsne)
	kck := PTK(pmk, aa, spa, anonce, snonce)[:16]
	mac := hmac.New(sha1.New, kck)
	mac.Write(f)
	copy(f[offMIC:], mac.Sum(nil)[:16])
	return f
}
