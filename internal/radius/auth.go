package radius

import (
	"crypto/md5"
	"crypto/subtle"
	"hash"
)

// sharedSecret is a NAS client's secret with its HMAC-MD5 pads, so that
// Message-Authenticator costs no key setup per packet.
type sharedSecret struct {
	secret []byte
	ipad   [md5.BlockSize]byte
	opad   [md5.BlockSize]byte
}

func newSharedSecret(secret []byte) *sharedSecret {
	k := &sharedSecret{secret: append([]byte(nil), secret...)}
	key := secret
	if len(key) > md5.BlockSize {
		sum := md5.Sum(key)
		key = sum[:]
	}
	for i := range k.ipad {
		k.ipad[i], k.opad[i] = 0x36, 0x5c
	}
	for i, b := range key {
		k.ipad[i] ^= b
		k.opad[i] ^= b
	}
	return k
}

// scratchLen is the scratch space the functions below need; the caller
// provides it so that nothing escapes to the heap per packet.
const scratchLen = 3 * md5.Size

// hmacMD5 appends HMAC-MD5(secret, a | b | c) to dst using h and
// tmp[:16] as scratch.
func (k *sharedSecret) hmacMD5(h hash.Hash, dst, tmp []byte, a, b, c []byte) []byte {
	h.Reset()
	h.Write(k.ipad[:])
	h.Write(a)
	h.Write(b)
	h.Write(c)
	inner := h.Sum(tmp[:0])
	h.Reset()
	h.Write(k.opad[:])
	h.Write(inner)
	return h.Sum(dst)
}

var zeroAuthenticator [16]byte

// verifyMessageAuthenticator checks the Message-Authenticator whose value
// starts at off in pkt (RFC 3579 §3.2): HMAC-MD5 over the packet with the
// attribute's value zeroed. For accounting requests the Request
// Authenticator is taken as zeros, as FreeRADIUS and RFC 5176 do. pkt is
// restored before returning.
func (k *sharedSecret) verifyMessageAuthenticator(h hash.Hash, tmp, pkt []byte, off int, accounting bool) bool {
	got := tmp[32:48]
	copy(got, pkt[off:off+16])
	clear(pkt[off : off+16])
	var computed []byte
	if accounting {
		computed = k.hmacMD5(h, tmp[16:16], tmp, pkt[:4], zeroAuthenticator[:], pkt[headerLen:])
	} else {
		computed = k.hmacMD5(h, tmp[16:16], tmp, pkt, nil, nil)
	}
	copy(pkt[off:], got)
	return subtle.ConstantTimeCompare(computed, got) == 1
}

// verifyAccountingRequest checks an Accounting-Request's authenticator:
// MD5(Code | Identifier | Length | 16 zeros | Attributes | Secret).
func (k *sharedSecret) verifyAccountingRequest(h hash.Hash, tmp, pkt []byte) bool {
	h.Reset()
	h.Write(pkt[:4])
	h.Write(zeroAuthenticator[:])
	h.Write(pkt[headerLen:])
	h.Write(k.secret)
	return subtle.ConstantTimeCompare(h.Sum(tmp[:0]), pkt[4:20]) == 1
}

// sign finishes a response in place: the Message-Authenticator (whose value
// starts at maOff, or none when maOff is 0) over the packet carrying the
// request's authenticator (zeros for an Accounting-Response, as FreeRADIUS
// computes and checks it), then the Response Authenticator
// MD5(Code | Identifier | Length | RequestAuth | Attributes | Secret).
func (k *sharedSecret) sign(h hash.Hash, tmp, resp, reqAuth []byte, maOff int) {
	if resp[0] == codeAccountingResponse {
		clear(resp[4:20])
	} else {
		copy(resp[4:20], reqAuth)
	}
	if maOff > 0 {
		clear(resp[maOff : maOff+16])
		copy(resp[maOff:], k.hmacMD5(h, tmp[16:16], tmp, resp, nil, nil))
	}
	copy(resp[4:20], reqAuth)
	h.Reset()
	h.Write(resp)
	h.Write(k.secret)
	copy(resp[4:20], h.Sum(tmp[:0]))
}
