package radius

import "hash"

// maxSaltPlaintext keeps a salt-encrypted value within one attribute:
// 2 bytes of salt and 16-byte blocks holding a length byte and the value.
const maxSaltPlaintext = 239

// appendSaltEncrypted appends salt | ciphertext of plaintext as RFC 2868 §3.5
// (Tunnel-Password) and RFC 2548 §2.4.3 (MS-MPPE keys) define it: the
// plaintext is a length byte, the value and zero padding to a multiple of
// 16; b1 = MD5(secret | request authenticator | salt), c1 = p1 xor b1, then
// bi = MD5(secret | c(i-1)). The salt's high bit must be set. Aruba's
// MPSK passphrase uses the same scheme. It does not allocate when dst has
// room.
func appendSaltEncrypted(dst []byte, h hash.Hash, tmp, secret, reqAuth []byte, salt [2]byte, plaintext []byte) []byte {
	if len(plaintext) > maxSaltPlaintext {
		plaintext = plaintext[:maxSaltPlaintext]
	}
	dst = append(dst, salt[0]|0x80, salt[1])
	start := len(dst)
	n := (1 + len(plaintext) + 15) / 16 * 16
	dst = append(dst, byte(len(plaintext)))
	dst = append(dst, plaintext...)
	for len(dst)-start < n {
		dst = append(dst, 0)
	}
	for i := 0; i < n; i += 16 {
		h.Reset()
		h.Write(secret)
		if i == 0 {
			h.Write(reqAuth)
			h.Write(dst[start-2 : start])
		} else {
			h.Write(dst[start+i-16 : start+i])
		}
		b := h.Sum(tmp[:0])
		for j := 0; j < 16; j++ {
			dst[start+i+j] ^= b[j]
		}
	}
	return dst
}
