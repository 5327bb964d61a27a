package radius

import (
	"crypto/subtle"

	"netkeep/internal/mac"
	"netkeep/internal/radius/nas"
)

// macPasswordOK reports whether the current MAC-authentication request
// carries the password its client's policy asks for: the station's MAC
// (the default), the client's fixed password, or anything ("any"). A
// request with neither User-Password nor CHAP-Password fails every policy
// but "any". It does not allocate.
func (w *worker) macPasswordOK(c *Client, station MAC) bool {
	switch c.MACPassword {
	case nas.MACPasswordAny:
		return true
	case nas.MACPasswordFixed:
		if pw, ok := w.papPassword(c); ok {
			return len(c.fixed) > 0 && subtle.ConstantTimeCompare(pw, c.fixed) == 1
		}
		return len(c.fixed) > 0 && w.chapMatches(c.fixed)
	}
	if pw, ok := w.papPassword(c); ok {
		m, ok := mac.Parse(pw)
		return ok && m == station
	}
	if len(w.req.chapPassword) == 0 {
		return false
	}
	// CHAP hides the text: try each form access points write a MAC in.
	var buf [mac.MaxLen]byte
	for _, f := range mac.VendorFormats {
		if w.chapMatches(station.AppendFormat(buf[:0], f)) {
			return true
		}
	}
	return false
}

// papPassword decrypts the request's User-Password (RFC 2865 §5.2) into the
// worker's buffer and returns it without its zero padding; ok is false when
// the request has none or it is malformed.
func (w *worker) papPassword(c *Client) ([]byte, bool) {
	enc := w.req.userPassword
	if len(enc) == 0 || len(enc)%16 != 0 || len(enc) > nas.MaxMACPasswordLen {
		return nil, false
	}
	out := w.password[:len(enc)]
	prev := w.req.auth
	for i := 0; i < len(enc); i += 16 {
		w.md5.Reset()
		w.md5.Write(c.key.secret)
		w.md5.Write(prev)
		b := w.md5.Sum(w.tmp[:0])
		for j := range 16 {
			out[i+j] = enc[i+j] ^ b[j]
		}
		prev = enc[i : i+16]
	}
	n := len(out)
	for n > 0 && out[n-1] == 0 {
		n--
	}
	return out[:n], true
}

// chapMatches reports whether the request's CHAP-Password is the response
// to password: MD5(CHAP Ident | password | challenge), the challenge being
// CHAP-Challenge or else the Request Authenticator (RFC 2865 §2.2, §5.3).
func (w *worker) chapMatches(password []byte) bool {
	r := &w.req
	if len(r.chapPassword) != 17 {
		return false
	}
	challenge := r.chapChallenge
	if len(challenge) == 0 {
		challenge = r.auth
	}
	w.md5.Reset()
	w.md5.Write(r.chapPassword[:1])
	w.md5.Write(password)
	w.md5.Write(challenge)
	return subtle.ConstantTimeCompare(w.md5.Sum(w.tmp[:0]), r.chapPassword[1:]) == 1
}
