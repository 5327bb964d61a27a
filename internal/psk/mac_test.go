package psk

import (
	"testing"

	"netkeep/internal/fault"
)

func TestParseMAC(t *testing.T) {
	t.Parallel()
	const want = "aa:bb:cc:dd:ee:0f"
	tests := []struct {
		name string
		in   string
		want string // "" means invalid
	}{
		{"ok/colons", "aa:bb:cc:dd:ee:0f", want},
		{"ok/upper dashes", "AA-BB-CC-DD-EE-0F", want},
		{"ok/cisco dots", "aabb.ccdd.ee0f", want},
		{"ok/bare", "aabbccddee0f", want},
		{"ok/bare upper", "AABBCCDDEE0F", want},
		{"ok/mixed case colons", "Aa:bB:cc:DD:ee:0F", want},
		{"ok/two halves", "aabbcc-ddee0f", want},
		{"ok/surrounding space", "  aa:bb:cc:dd:ee:0f\t", want},
		{"ok/locally administered", "02:00:00:00:00:01", "02:00:00:00:00:01"},
		{"bad/empty", "", ""},
		{"bad/short", "aa:bb:cc:dd:ee", ""},
		{"bad/long", "aa:bb:cc:dd:ee:0f:11", ""},
		{"bad/mixed separators", "aa:bb-cc:dd:ee:0f", ""},
		{"bad/non hex", "gg:bb:cc:dd:ee:0f", ""},
		{"bad/misplaced dot", "aab.bccdd.ee0f", ""},
		{"bad/space separator", "aa bb cc dd ee 0f", ""},
		{"bad/slash separator", "aa/bb/cc/dd/ee/0f", ""},
		{"bad/all zero", "00:00:00:00:00:00", ""},
		{"bad/broadcast", "ff:ff:ff:ff:ff:ff", ""},
		{"bad/multicast", "01:00:5e:00:00:01", ""},
		{"bad/13 bare digits", "aabbccddee0f1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMAC(tc.in)
			if tc.want == "" {
				if err == nil || !fault.Is(err, fault.Invalid) {
					t.Fatalf("ParseMAC(%q) = %q, %v; want invalid", tc.in, got, err)
				}
				if d := fault.As(err).Details; d["field"] != "mac_address" {
					t.Fatalf("details = %v", d)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseMAC(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
