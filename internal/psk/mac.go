package psk

import (
	"strings"

	"netkeep/internal/fault"
)

// ParseMAC normalises a station MAC address to aa:bb:cc:dd:ee:ff. It accepts
// the forms access points and people write: aa:bb:cc:dd:ee:ff,
// AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff (Cisco), aabbcc-ddeeff and aabbccddeeff,
// in either case, with surrounding space. The separator must be used
// consistently between equal groups. The all-zero address (hostapd's
// wildcard) and group (multicast) addresses name no station and are invalid.
func ParseMAC(s string) (string, error) {
	s = strings.TrimSpace(s)
	digits, ok := macDigits(s)
	if !ok {
		return "", invalid("mac_address", "mac_address must be a MAC address such as aa:bb:cc:dd:ee:ff").
			WithDetails(map[string]any{"field": "mac_address", "value": clip(s)})
	}
	if digits == "000000000000" {
		return "", invalid("mac_address", "mac_address must not be the all-zero address")
	}
	if hexVal(digits[1])&1 == 1 {
		return "", invalid("mac_address", "mac_address must be a station (unicast) address")
	}
	var b strings.Builder
	b.Grow(17)
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(digits[i : i+2])
	}
	return b.String(), nil
}

// macDigits returns the 12 lower-case hex digits of s if s is one of the
// accepted forms.
func macDigits(s string) (string, bool) {
	var groupLen int
	var sep byte
	switch len(s) {
	case 12:
		groupLen = 12
	case 17: // 6 groups of 2
		groupLen, sep = 2, s[2]
	case 14: // 3 groups of 4
		groupLen, sep = 4, s[4]
	case 13: // 2 groups of 6
		groupLen, sep = 6, s[6]
	default:
		return "", false
	}
	if groupLen != 12 && sep != ':' && sep != '-' && sep != '.' {
		return "", false
	}
	out := make([]byte, 0, 12)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if groupLen != 12 && (i+1)%(groupLen+1) == 0 {
			if c != sep {
				return "", false
			}
			continue
		}
		if !isHex(c) {
			return "", false
		}
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out), len(out) == 12
}

func hexVal(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// clip shortens what a client sent before it is echoed in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// errNoMAC is returned when a required MAC address is missing.
var errNoMAC = fault.New(fault.Invalid, "mac_address is required").WithDetails(map[string]any{"field": "mac_address"})
