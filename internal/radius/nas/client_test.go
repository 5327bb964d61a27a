package nas

import "testing"

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
