package mac

import (
	"strings"
	"testing"
)

// FuzzParse checks Parse against what it promises: an accepted input is
// 12 hex digits, alone or split into equal groups by one separator, and
// writing the address back in any format parses to the same address.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"aabbccddeeff", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "aabbcc-ddeeff",
		"aa:bb:cc:dd:ee:ff:00:11", "aa:bb-cc:dd:ee:ff", " aabbccddeeff", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := Parse(b)
		if s, sok := ParseString(string(b)); s != a || sok != ok {
			t.Fatalf("ParseString(%q) = %x, %v; Parse %x, %v", b, s, sok, a, ok)
		}
		if !ok {
			if a != 0 {
				t.Fatalf("Parse(%q) refused but returned %x", b, a)
			}
			return
		}
		if a>>48 != 0 {
			t.Fatalf("Parse(%q) = %x: more than 48 bits", b, a)
		}
		digits := strings.Map(func(r rune) rune {
			if r == ':' || r == '-' || r == '.' {
				return -1
			}
			return r
		}, string(b))
		if len(digits) != 12 || !strings.EqualFold(digits, string(a.AppendFormat(nil, Bare))) {
			t.Fatalf("Parse(%q) = %x: digits do not match", b, a)
		}
		for _, f := range VendorFormats {
			if back, ok := Parse(a.AppendFormat(nil, f)); !ok || back != a {
				t.Fatalf("%x in %+v does not parse back: %x, %v", a, f, back, ok)
			}
		}
	})
}
