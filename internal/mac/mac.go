// Package mac is netkeep's one MAC address type and its one parser, shared
// by the PSK endpoints, the RADIUS server and the mesh: an address accepted
// in one place is accepted, and written, the same way everywhere. It
// imports only the standard library.
package mac

// Addr is an EUI-48 address in the low 48 bits of the value, so it is
// comparable, usable as a map key and free to copy.
type Addr uint64

// Parse reads an EUI-48 address in any of the forms equipment and people
// write, case-insensitively:
//
//	aabbccddeeff        (hostapd, most MAC-auth User-Names)
//	aa:bb:cc:dd:ee:ff   aa-bb-cc-dd-ee-ff   aa.bb.cc.dd.ee.ff
//	aabb.ccdd.eeff      aabb-ccdd-eeff      aabb:ccdd:eeff   (Cisco, Huawei)
//	aabbcc-ddeeff       aabbcc:ddeeff       aabbcc.ddeeff    (HPE)
//
// A separator is one of ':', '-', '.', the same throughout, between groups
// of equal size. Anything else is refused: surrounding space (callers that
// take typed input trim it), EUI-64 and longer addresses, mixed separators.
// Parse does not allocate, so the RADIUS packet path may call it.
func Parse(b []byte) (Addr, bool) {
	var group int
	switch len(b) {
	case 12:
		group = 12
	case 17:
		group = 2
	case 14:
		group = 4
	case 13:
		group = 6
	default:
		return 0, false
	}
	var sep byte
	if group != 12 {
		sep = b[group]
		if sep != ':' && sep != '-' && sep != '.' {
			return 0, false
		}
	}
	var a uint64
	for i, c := range b {
		if group != 12 && (i+1)%(group+1) == 0 {
			if c != sep {
				return 0, false
			}
			continue
		}
		v, ok := hexValue(c)
		if !ok {
			return 0, false
		}
		a = a<<4 | uint64(v)
	}
	return Addr(a), true
}

// ParseString is Parse for a string; it does not allocate either.
func ParseString(s string) (Addr, bool) {
	if len(s) > 17 {
		return 0, false
	}
	var b [17]byte
	return Parse(b[:copy(b[:], s)])
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// FromBytes reads 6 bytes in network order (a raw BSSID attribute).
func FromBytes(b []byte) (Addr, bool) {
	if len(b) != 6 {
		return 0, false
	}
	var a uint64
	for _, c := range b {
		a = a<<8 | uint64(c)
	}
	return Addr(a), true
}

// Bytes returns a in network order.
func (a Addr) Bytes() [6]byte {
	var b [6]byte
	for i := range b {
		b[i] = byte(a >> (40 - 8*i))
	}
	return b
}

// IsZero reports the all-zero address (hostapd's "any station").
func (a Addr) IsZero() bool { return a == 0 }

// IsGroup reports a group (multicast or broadcast) address: the I/G bit of
// the first octet.
func (a Addr) IsGroup() bool { return a>>40&1 == 1 }

// IsStation reports an address a single station can have: neither the
// all-zero address nor a group address.
func (a Addr) IsStation() bool { return !a.IsZero() && !a.IsGroup() }
