package pki

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"strings"

	"netkeep/internal/fault"
)

// Serial is a certificate serial number as `openssl x509 -serial` prints it:
// the big-endian magnitude in uppercase hex, two digits per byte, no colons
// (e.g. "0A3F..."). It is the canonical form: stored, compared and shown.
type Serial string

// maxSerialBytes is RFC 5280's limit on serial numbers (20 octets).
const maxSerialBytes = 20

var errMalformedSerial = fault.New(fault.Invalid, "serial must be a positive hexadecimal number of at most 20 bytes (colons and case are ignored)")

// ParseSerial reads a serial given in hex, ignoring case and colons (as
// openssl prints it in -serial or -text output) and leading zeros. Anything
// else, zero, or more than 20 bytes is an invalid error.
func ParseSerial(s string) (Serial, error) {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			continue
		case '0' <= c && c <= '9', 'A' <= c && c <= 'F':
		case 'a' <= c && c <= 'f':
			c -= 'a' - 'A'
		default:
			return "", errMalformedSerial
		}
		if c == '0' && len(digits) == 0 {
			continue // leading zero
		}
		digits = append(digits, c)
	}
	if len(digits) == 0 || len(digits) > 2*maxSerialBytes {
		return "", errMalformedSerial
	}
	if len(digits)%2 == 1 {
		digits = append([]byte{'0'}, digits...)
	}
	return Serial(digits), nil
}

// SerialOf formats n (positive) canonically.
func SerialOf(n *big.Int) Serial {
	b := n.Bytes()
	if len(b) == 0 {
		return "00"
	}
	return Serial(strings.ToUpper(hex.EncodeToString(b)))
}

// Int returns the serial as a number (nil if s is not canonical hex).
func (s Serial) Int() *big.Int {
	n, ok := new(big.Int).SetString(string(s), 16)
	if !ok {
		return nil
	}
	return n
}

func (s Serial) String() string { return string(s) }

// newSerial returns a uniformly random positive 128-bit serial.
func newSerial() *big.Int {
	var b [16]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
		n := new(big.Int).SetBytes(b[:])
		if n.Sign() > 0 {
			return n
		}
	}
}
