package nas

import (
	"strings"
	"testing"

	"netkeep/internal/fault"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in, want string
		bits     int
		ok       bool
	}{
		{"10.0.0.7", "10.0.0.7", 32, true},
		{" 10.0.0.7 ", "10.0.0.7", 32, true},
		{"10.0.0.7/8", "10.0.0.0/8", 8, true},
		{"10.0.0.7/32", "10.0.0.7", 32, true},
		{"::ffff:10.0.0.7", "10.0.0.7", 32, true},
		{"::ffff:10.0.0.7/128", "10.0.0.7", 32, true},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", 8, true},
		{"::ffff:0:0/96", "0.0.0.0/0", 0, true},
		{"::ffff:0:0/95", "", 0, false},
		{"2001:db8::1/48", "2001:db8::/48", 48, true},
		{"2001:db8::1", "2001:db8::1", 128, true},
		{"10.0.0", "", 0, false},
		{"10.0.0.0/33", "", 0, false},
		{"host.example", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, p, err := ParseAddress(tt.in)
			if (err == nil) != tt.ok || got != tt.want || (tt.ok && p.Bits() != tt.bits) {
				t.Fatalf("ParseAddress(%q) = %q, %v, %v", tt.in, got, p, err)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	if _, err := checkVendor("Ruckus"); err != nil {
		t.Fatal("vendor case-insensitive")
	}
	if v, _ := checkVendor(""); v != Generic {
		t.Fatal("default vendor")
	}
	for _, s := range []string{"short", "with\nnewline", string(make([]byte, 129))} {
		if checkSecret(s) == nil {
			t.Errorf("secret %q accepted", s)
		}
	}
	if got, err := checkSSIDs([]string{"a", "a", "b"}); err != nil || len(got) != 2 {
		t.Fatalf("SSIDs deduplicated: %v %v", got, err)
	}
}

func TestParseMACAuthPassword(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		cur       MACPasswordMode
		mode      MACPasswordMode
		fixed     string
		keep, bad bool
	}{
		{"ok/mac", "mac", MACPasswordFixed, MACPasswordMAC, "", false, false},
		{"ok/any", "any", MACPasswordMAC, MACPasswordAny, "", false, false},
		{"ok/fixed password", "s3cret pw", MACPasswordMAC, MACPasswordFixed, "s3cret pw", false, false},
		{"ok/fixed keeps the set one", "fixed", MACPasswordFixed, MACPasswordFixed, "", true, false},
		{"bad/fixed without one set", "fixed", MACPasswordMAC, "", "", false, true},
		{"bad/empty", "", MACPasswordMAC, "", "", false, true},
		{"bad/too long", strings.Repeat("p", MaxMACPasswordLen+1), MACPasswordMAC, "", "", false, true},
		{"bad/control character", "pass\x00word", MACPasswordMAC, "", "", false, true},
		{"bad/bidi override", "pass\u202eword", MACPasswordMAC, "", "", false, true},
		{"ok/longest", strings.Repeat("p", MaxMACPasswordLen), MACPasswordAny, MACPasswordFixed, strings.Repeat("p", MaxMACPasswordLen), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode, fixed, keep, err := ParseMACAuthPassword(tt.in, tt.cur)
			if tt.bad {
				if !fault.Is(err, fault.Invalid) || fault.As(err).Details["field"] != "mac_auth_password" {
					t.Fatalf("ParseMACAuthPassword(%q) = %v; want invalid naming mac_auth_password", tt.in, err)
				}
				return
			}
			if err != nil || mode != tt.mode || fixed != tt.fixed || keep != tt.keep {
				t.Fatalf("ParseMACAuthPassword(%q) = %q, %q, %v, %v", tt.in, mode, fixed, keep, err)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"ok/trimmed", "  Lobby AP  ", "Lobby AP", true},
		{"ok/unicode", "Café AP 東京", "Café AP 東京", true},
		{"bad/empty", "   ", "", false},
		{"bad/escape", "AP\x1b[2J", "", false},
		{"bad/newline", "AP\nfake log line", "", false},
		{"bad/bidi override", "AP\u202egnp.exe", "", false},
		{"bad/invalid UTF-8", "AP\xff", "", false},
		{"bad/too long", strings.Repeat("a", MaxNameLen+1), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkName(tt.in)
			if !tt.ok {
				if !fault.Is(err, fault.Invalid) || fault.As(err).Details["field"] != "name" {
					t.Fatalf("checkName(%q) = %q, %v; want invalid naming name", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("checkName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
