package pki_test

import (
	"math/big"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

func TestParseSerial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     pki.Serial // "" for invalid
	}{
		{"ok/canonical", "0A1B2C", "0A1B2C"},
		{"ok/lower case", "0a1b2c", "0A1B2C"},
		{"ok/colons as openssl -text prints", "0a:1b:2c", "0A1B2C"},
		{"ok/odd length padded", "A1B2C", "0A1B2C"},
		{"ok/leading zeros dropped", "000A1B2C", "0A1B2C"},
		{"ok/20 bytes", "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"},
		{"invalid/empty", "", ""},
		{"invalid/only colons", ":::", ""},
		{"invalid/zero", "00", ""},
		{"invalid/not hex", "0G", ""},
		{"invalid/negative", "-0A", ""},
		{"invalid/0x prefix", "0x0A", ""},
		{"invalid/space", "0A 1B", ""},
		{"invalid/21 bytes", "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", ""},
		{"invalid/unicode", "0Aé", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pki.ParseSerial(tc.in)
			if tc.want == "" {
				if !fault.Is(err, fault.Invalid) {
					t.Fatalf("ParseSerial(%q) = %q, %v; want invalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSerial(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestSerialOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    *big.Int
		want pki.Serial
	}{
		{"small byte keeps its zero", big.NewInt(0x0a), "0A"},
		{"two bytes", big.NewInt(0x1234), "1234"},
		{"high bit set", new(big.Int).SetBytes([]byte{0xff, 0x01}), "FF01"},
		{"leading zero nibble", new(big.Int).SetBytes([]byte{0x01, 0x02, 0x03}), "010203"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pki.SerialOf(tc.n); got != tc.want {
				t.Fatalf("SerialOf(%x) = %s, want %s", tc.n, got, tc.want)
			}
			if back := tc.want.Int(); back.Cmp(tc.n) != 0 {
				t.Fatalf("Int() = %x", back)
			}
		})
	}
}

func TestParseReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want pki.Reason // "" for invalid
		code int
	}{
		{"", pki.Unspecified, 0},
		{"unspecified", pki.Unspecified, 0},
		{"keyCompromise", pki.KeyCompromise, 1},
		{"KEYCOMPROMISE", pki.KeyCompromise, 1},
		{"cACompromise", pki.CACompromise, 2},
		{"affiliationChanged", pki.AffiliationChanged, 3},
		{"superseded", pki.Superseded, 4},
		{"cessationOfOperation", pki.CessationOfOperation, 5},
		{"privilegeWithdrawn", pki.PrivilegeWithdrawn, 9},
		{"aACompromise", pki.AACompromise, 10},
		{"certificateHold", "", 0},
		{"removeFromCRL", "", 0},
		{"lost", "", 0},
		{"key_compromise", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := pki.ParseReason(tc.in)
			if tc.want == "" {
				if !fault.Is(err, fault.Invalid) {
					t.Fatalf("ParseReason(%q) = %q, %v; want invalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want || got.Code() != tc.code {
				t.Fatalf("ParseReason(%q) = %q (%d), %v", tc.in, got, got.Code(), err)
			}
		})
	}
}
