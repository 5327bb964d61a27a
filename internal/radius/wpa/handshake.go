package wpa

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding"
	"encoding/binary"
	"errors"
	"hash"
)

// EAPOL-Key frame layout (IEEE 802.1X header, then the key descriptor).
const (
	offKeyInfo  = 5
	offNonce    = 17
	offMIC      = 81
	offDataLen  = 97
	minFrameLen = 99
	// MaxFrameLen bounds the message 2 accepted; real ones are about 120
	// bytes (more with FT or OCV elements).
	MaxFrameLen = 1024
)

// Handshake is what an access point forwards of a 4-way handshake: both
// addresses, the ANonce it sent in message 1, and the station's message 2.
type Handshake struct {
	AA     [6]byte // authenticator (BSSID)
	SPA    [6]byte // supplicant (station)
	ANonce []byte  // 32 bytes
	Frame  []byte  // EAPOL-Key message 2: 802.1X header and key descriptor
}

// Errors of Verifier.Reset; the frame cannot be checked.
var (
	ErrMalformed   = errors.New("wpa: malformed EAPOL-Key message 2")
	ErrUnsupported = errors.New("wpa: unsupported key descriptor version (only 1 and 2)")
)

// Verifier checks candidate keys against one handshake. It holds scratch
// buffers, so one Verifier is used by one goroutine at a time; Reset it for
// each handshake. The zero value is ready to use.
type Verifier struct {
	sha     hash.Hash
	md5     hash.Hash
	version uint16
	data    [100]byte // label | 0 | addresses | nonces | counter 0
	frame   [MaxFrameLen]byte
	n       int // length of the frame with its MIC zeroed
	mic     [16]byte
	kck     [sha1.Size]byte
	pad     [sha1.BlockSize]byte
	sum     [sha1.Size]byte
}

// Reset prepares v for h: validates the frame and builds the key expansion
// input, which is the same for every candidate.
func (v *Verifier) Reset(h Handshake) error {
	f := h.Frame
	if len(h.ANonce) != 32 || len(f) < minFrameLen {
		return ErrMalformed
	}
	if f[1] != 3 { // EAPOL-Key
		return ErrMalformed
	}
	n := 4 + int(binary.BigEndian.Uint16(f[2:4]))
	if n < minFrameLen || n > len(f) || n > MaxFrameLen {
		return ErrMalformed
	}
	if 99+int(binary.BigEndian.Uint16(f[offDataLen:])) > n {
		return ErrMalformed
	}
	info := binary.BigEndian.Uint16(f[offKeyInfo:])
	if info&(1<<8) == 0 || info&(1<<3) == 0 { // MIC set, pairwise
		return ErrMalformed
	}
	v.version = info & 7
	if v.version != 1 && v.version != 2 {
		return ErrUnsupported
	}
	if v.sha == nil {
		v.sha, v.md5 = sha1.New(), md5.New()
	}
	copy(v.mic[:], f[offMIC:offMIC+16])
	v.n = copy(v.frame[:], f[:n])
	clear(v.frame[offMIC : offMIC+16])
	d := append(v.data[:0], pairwiseLabel...)
	d = append(d, 0)
	d = expansionData(d, h.AA, h.SPA, h.ANonce, f[offNonce:offNonce+32])
	_ = append(d, 0)
	return nil
}

// Match reports whether k is the PMK the station used. It does not
// allocate.
func (v *Verifier) Match(k *Key) bool {
	// KCK = PTK[0:16] = first block of PRF-384 = HMAC-SHA1(PMK, data).
	h := v.sha
	restore(h, k.inner[:])
	h.Write(v.data[:])
	inner := h.Sum(v.sum[:0])
	restore(h, k.outer[:])
	h.Write(inner)
	h.Sum(v.kck[:0])
	mic := v.mac(v.kck[:16])
	return hmac.Equal(mic[:16], v.mic[:])
}

// mac is HMAC(kck, frame) with SHA-1 (version 2) or MD5 (version 1).
func (v *Verifier) mac(kck []byte) []byte {
	h := v.sha
	if v.version == 1 {
		h = v.md5
	}
	for i := range v.pad {
		v.pad[i] = 0x36
	}
	for i, b := range kck {
		v.pad[i] ^= b
	}
	h.Reset()
	h.Write(v.pad[:])
	h.Write(v.frame[:v.n])
	inner := h.Sum(v.sum[:0])
	for i := range v.pad {
		v.pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(v.pad[:])
	h.Write(inner)
	return h.Sum(v.sum[:0])
}

func restore(h hash.Hash, state []byte) {
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic("wpa: restoring SHA-1 state: " + err.Error())
	}
}

// SNonce returns the station's nonce from message 2 (len(frame) >= 49).
func SNonce(frame []byte) []byte { return frame[offNonce : offNonce+32] }
