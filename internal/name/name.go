// Package name is the one check every human-given name passes before it is
// stored: group, user, email, RADIUS client, PSK and API-key names and
// descriptions. It refuses what makes a name lie when shown (control
// characters, NUL, bidirectional overrides, invalid UTF-8); length and
// character-set rules of a particular field stay with its domain. It imports
// only the standard library and fault.
package name

import (
	"unicode"
	"unicode/utf8"

	"netkeep/internal/fault"
)

// Check returns a fault.Invalid error naming field when value holds invalid
// UTF-8, a control character (C0, DEL, C1; tab and newline included) or a
// bidirectional formatting character; nil otherwise. The empty string passes:
// whether a field is required is the caller's rule.
func Check(field, value string) error { return check(field, value, false) }

// CheckText is Check for free text (descriptions, notes): tab and line
// breaks are allowed there, every other control and bidi character is not.
func CheckText(field, value string) error { return check(field, value, true) }

func check(field, value string, text bool) error {
	for i, r := range value {
		switch {
		case text && (r == '\t' || r == '\n' || r == '\r'):
		case r == utf8.RuneError && !validAt(value, i):
			return fault.Errorf(fault.Invalid, "%s is not valid UTF-8", field)
		case unicode.IsControl(r):
			return fault.Errorf(fault.Invalid, "%s must not contain control characters", field)
		case isBidi(r):
			return fault.Errorf(fault.Invalid, "%s must not contain bidirectional formatting characters", field)
		}
	}
	return nil
}

// validAt reports whether the U+FFFD at byte i is really encoded there
// (rather than standing for an invalid byte).
func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r == utf8.RuneError && size == 3
}

// isBidi reports the Unicode bidirectional formatting characters (UAX #9):
// marks, embeddings, overrides and isolates. They reorder what is displayed
// around them, so "admin\u202Egnp.exe" shows as something it is not.
func isBidi(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
