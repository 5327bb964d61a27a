package radius

// MAC is a station address: 48 bits in the low bits of the value.
type MAC uint64

// ParseMAC reads a MAC address in any common form: aa:bb:cc:dd:ee:ff,
// AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff, aabbccddeeff (case-insensitive). It
// does not allocate.
func ParseMAC(b []byte) (MAC, bool) {
	var m uint64
	digits := 0
	var sep byte
	for i, c := range b {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		case c == ':' || c == '-' || c == '.':
			// Separators must be consistent and sit between digit groups
			// of 2 (colon, dash) or 4 (dot).
			if sep == 0 {
				sep = c
			}
			if c != sep || i == 0 || i == len(b)-1 {
				return 0, false
			}
			group := 2
			if c == '.' {
				group = 4
			}
			if digits%group != 0 {
				return 0, false
			}
			continue
		default:
			return 0, false
		}
		if digits == 12 {
			return 0, false
		}
		m = m<<4 | uint64(v)
		digits++
	}
	if digits != 12 {
		return 0, false
	}
	want := 0
	switch sep {
	case ':', '-':
		want = 5
	case '.':
		want = 2
	}
	if len(b)-12 != want {
		return 0, false
	}
	return MAC(m), true
}

// ParseMACString is ParseMAC for a string.
func ParseMACString(s string) (MAC, bool) { return ParseMAC([]byte(s)) }

// String renders m as aa:bb:cc:dd:ee:ff.
func (m MAC) String() string {
	const hexd = "0123456789abcdef"
	var b [17]byte
	for i := 0; i < 6; i++ {
		v := byte(m >> (40 - 8*i))
		b[3*i], b[3*i+1] = hexd[v>>4], hexd[v&15]
		if i < 5 {
			b[3*i+2] = ':'
		}
	}
	return string(b[:])
}

// Bytes returns m in network order.
func (m MAC) Bytes() [6]byte {
	var b [6]byte
	for i := range b {
		b[i] = byte(m >> (40 - 8*i))
	}
	return b
}

// macFromBytes is the inverse of Bytes.
func macFromBytes(b []byte) (MAC, bool) {
	if len(b) != 6 {
		return 0, false
	}
	var m uint64
	for _, c := range b {
		m = m<<8 | uint64(c)
	}
	return MAC(m), true
}
