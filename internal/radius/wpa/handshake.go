package wpa

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"hash"
	"math/bits"
	"sync/atomic"
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

// frameBlocks is how many 64-byte blocks the longest frame takes once
// padded after the HMAC pad block.
const frameBlocks = (MaxFrameLen + 9 + 63) / 64

// pairwiseLabel is the PTK derivation label.
const pairwiseLabel = "Pairwise key expansion"

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

// Verifier checks candidate keys against one handshake. Reset lays out,
// once per handshake, every block the check compresses that does not
// depend on the candidate: the key expansion input (label, addresses,
// nonces; two blocks, padded) and message 2 with its MIC zeroed (padded).
// A candidate then costs nine SHA-1 compressions (KCK: two inner, one
// outer; MIC over a 121-byte frame: four inner, two outer) and no
// allocation.
//
// A Verifier holds scratch state: one goroutine uses it at a time. The zero
// value is ready for Reset; CopyTo gives another goroutine its own.
type Verifier struct {
	version uint16
	expand  [2][64]byte // label | 0 | addresses | nonces | counter 0, padded
	frame   [frameBlocks * 64]byte
	nblocks int
	n       int       // length of the frame, with its MIC zeroed in frame
	mic     [4]uint32 // the frame's MIC as big-endian words
	micRaw  [16]byte
	md5     hash.Hash // version 1 only

	// The shared blocks' message schedules for the multi-buffer ways
	// (prepareLanes): key expansion, then frame; 80 words each.
	sched      [(2 + frameBlocks) * 80]uint32
	schedReady bool
	out        [4][16]uint32 // the multi-buffer ways' MICs
}

// Reset prepares v for h.
func (v *Verifier) Reset(h Handshake) error {
	v.schedReady = false
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
	copy(v.micRaw[:], f[offMIC:offMIC+16])
	for i := range v.mic {
		v.mic[i] = binary.BigEndian.Uint32(v.micRaw[4*i:])
	}

	// The key expansion input, 100 bytes after the pad block: padded to
	// two blocks.
	var d [128]byte
	b := append(d[:0], pairwiseLabel...)
	b = append(b, 0)
	b = expansionData(b, h.AA, h.SPA, h.ANonce, f[offNonce:offNonce+32])
	b = append(b, 0) // PRF counter
	d[len(b)] = 0x80
	binary.BigEndian.PutUint64(d[120:], uint64(64+len(b))*8)
	copy(v.expand[0][:], d[:64])
	copy(v.expand[1][:], d[64:])

	// Message 2 with its MIC zeroed, padded after the pad block.
	clear(v.frame[:])
	flat := v.frame[:]
	copy(flat, f[:n])
	clear(flat[offMIC : offMIC+16])
	v.n = n
	flat[n] = 0x80
	v.nblocks = (n + 9 + 63) / 64
	binary.BigEndian.PutUint64(flat[64*v.nblocks-8:], uint64(64+n)*8)
	return nil
}

// frameBlock is the i-th block of the padded frame.
func (v *Verifier) frameBlock(i int) *[64]byte { return (*[64]byte)(v.frame[64*i:]) }

// CopyTo makes dst a Verifier for the same handshake, for another
// goroutine.
func (v *Verifier) CopyTo(dst *Verifier) {
	md := dst.md5
	*dst = *v
	dst.md5 = md
}

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

// Match reports whether k is the PMK the station used. It does not
// allocate (after the first version-1 frame).
func (v *Verifier) Match(k *Key) bool {
	if v.version == 1 {
		return v.matchMD5(k)
	}
	var kck [5]uint32
	v.kck(k, &kck)
	return v.micMatches(&kck)
}

// Find returns the index of the first key in keys that the station used,
// or -1, and how many keys it checked. It checks keys in steps of the way
// SearchWay reports (a step's keys all count as tried), the remainder two
// at a time, and gives up, returning -1, once stop is set (another
// goroutine found the key in its share); stop may be nil.
func (v *Verifier) Find(keys []Key, stop *atomic.Bool) (found, tried int) {
	return v.findWith(currentWay(), keys, stop)
}

func (v *Verifier) findWith(way *laneWay, keys []Key, stop *atomic.Bool) (found, tried int) {
	if v.version == 1 {
		for i := range keys {
			if v.matchMD5(&keys[i]) {
				return i, i + 1
			}
		}
		return -1, len(keys)
	}
	i := 0
	if n := way.lanes; way.match != nil && len(keys) >= n {
		v.prepareLanes()
		for ; i+n <= len(keys); i += n {
			if i&63 == 0 && stop != nil && stop.Load() {
				return -1, i
			}
			if m := way.match(v, keys[i:i+n], &v.out); m != 0 {
				return i + bits.TrailingZeros32(m), i + n
			}
		}
	}
	for ; i+1 < len(keys); i += 2 {
		if i&63 == 0 && stop != nil && stop.Load() {
			return -1, i
		}
		a, b := v.match2(&keys[i], &keys[i+1])
		if a {
			return i, i + 2
		}
		if b {
			return i + 1, i + 2
		}
	}
	if i < len(keys) && v.Match(&keys[i]) {
		return i, len(keys)
	}
	return -1, len(keys)
}

// kck computes the KCK of k: the first block of PRF-384(PMK, label, data),
// whose first 16 bytes (kck[0:4]) are the key.
func (v *Verifier) kck(k *Key, out *[5]uint32) {
	h := k.inner
	block(&h, &v.expand[0])
	block(&h, &v.expand[1])
	var m [64]byte
	padDigestBlock(&m)
	putDigest(m[:], &h)
	*out = k.outer
	block(out, &m)
}

// kck2 is kck for two keys at once.
func (v *Verifier) kck2(k1, k2 *Key, o1, o2 *[5]uint32) {
	h1, h2 := k1.inner, k2.inner
	block2(&h1, &v.expand[0], &h2, &v.expand[0])
	block2(&h1, &v.expand[1], &h2, &v.expand[1])
	var m1, m2 [64]byte
	padDigestBlock(&m1)
	padDigestBlock(&m2)
	putDigest(m1[:], &h1)
	putDigest(m2[:], &h2)
	*o1, *o2 = k1.outer, k2.outer
	block2(o1, &m1, o2, &m2)
}

// kckPads returns the HMAC pad blocks of a 16-byte KCK.
func kckPads(kck *[5]uint32) (ipad, opad [64]byte) {
	for i := range 4 {
		binary.BigEndian.PutUint32(ipad[4*i:], kck[i])
	}
	for i := range ipad {
		if i >= 16 {
			ipad[i] = 0
		}
		opad[i] = ipad[i] ^ 0x5c
		ipad[i] ^= 0x36
	}
	return ipad, opad
}

// micMatches computes HMAC-SHA1(KCK, frame) and compares its first 16
// bytes with the frame's MIC.
func (v *Verifier) micMatches(kck *[5]uint32) bool {
	ipad, opad := kckPads(kck)
	h := sha1IV
	block(&h, &ipad)
	for i := range v.nblocks {
		block(&h, v.frameBlock(i))
	}
	var m [64]byte
	padDigestBlock(&m)
	putDigest(m[:], &h)
	o := sha1IV
	block(&o, &opad)
	block(&o, &m)
	return o[0]^v.mic[0]|o[1]^v.mic[1]|o[2]^v.mic[2]|o[3]^v.mic[3] == 0
}

// match2 checks two keys at once.
func (v *Verifier) match2(k1, k2 *Key) (bool, bool) {
	var c1, c2 [5]uint32
	v.kck2(k1, k2, &c1, &c2)
	i1, o1 := kckPads(&c1)
	i2, o2 := kckPads(&c2)
	h1, h2 := sha1IV, sha1IV
	block2(&h1, &i1, &h2, &i2)
	for i := range v.nblocks {
		f := v.frameBlock(i)
		block2(&h1, f, &h2, f)
	}
	var m1, m2 [64]byte
	padDigestBlock(&m1)
	padDigestBlock(&m2)
	putDigest(m1[:], &h1)
	putDigest(m2[:], &h2)
	g1, g2 := sha1IV, sha1IV
	block2(&g1, &o1, &g2, &o2)
	block2(&g1, &m1, &g2, &m2)
	return g1[0]^v.mic[0]|g1[1]^v.mic[1]|g1[2]^v.mic[2]|g1[3]^v.mic[3] == 0,
		g2[0]^v.mic[0]|g2[1]^v.mic[1]|g2[2]^v.mic[2]|g2[3]^v.mic[3] == 0
}

// matchMD5 is Match for key descriptor version 1 (WPA with TKIP): the MIC
// is HMAC-MD5. Rare enough to go through crypto/hmac's building blocks.
func (v *Verifier) matchMD5(k *Key) bool {
	var kck [5]uint32
	v.kck(k, &kck)
	if v.md5 == nil {
		v.md5 = md5.New()
	}
	ipad, opad := kckPads(&kck)
	h := v.md5
	h.Reset()
	h.Write(ipad[:])
	h.Write(v.frame[:v.n])
	var sum [md5.Size]byte
	inner := h.Sum(sum[:0])
	h.Reset()
	h.Write(opad[:])
	h.Write(inner)
	return hmac.Equal(h.Sum(sum[:0]), v.micRaw[:])
}

// SNonce returns the station's nonce from message 2 (len(frame) >= 49).
func SNonce(frame []byte) []byte { return frame[offNonce : offNonce+32] }
