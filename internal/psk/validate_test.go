package psk

import (
	"strings"
	"testing"
	"time"

	"netkeep/internal/fault"
)

func TestValidatePassphrase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"ok/8 chars", "abcdefgh", true},
		{"ok/63 chars", strings.Repeat("a", 63), true},
		{"ok/spaces and symbols", "a b~c!d@e#f$ ", true},
		{"ok/64 hex", strings.Repeat("0123456789abcdefABCDEF0123456789", 2), true},
		{"bad/7 chars", "abcdefg", false},
		{"bad/empty", "", false},
		{"bad/64 not hex", strings.Repeat("g", 64), false},
		{"bad/65 chars", strings.Repeat("a", 65), false},
		{"bad/non ascii", "pässwörd123", false},
		{"bad/control", "abcdefgh\n", false},
		{"bad/tab", "abcd\tefgh", false},
		{"bad/DEL", "abcdefgh\x7f", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePassphrase(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidatePassphrase(%q) = %v", tc.in, err)
			}
			if err != nil && (!fault.Is(err, fault.Invalid) || fault.As(err).Details["field"] != "psk_value") {
				t.Fatalf("error %#v", err)
			}
		})
	}
}

func TestValidateVLANAndName(t *testing.T) {
	t.Parallel()
	for _, v := range []int{1, 100, 4094} {
		if err := ValidateVLAN("vlan_id", v); err != nil {
			t.Errorf("vlan %d: %v", v, err)
		}
	}
	for _, v := range []int{-1, 0, 4095, 10000} {
		if err := ValidateVLAN("vlan_id", v); !fault.Is(err, fault.Invalid) {
			t.Errorf("vlan %d accepted", v)
		}
	}
	for _, n := range []string{"guest-a1b2c3d4", "Room_101", "a", strings.Repeat("x", 64), "jane.doe@example.com"} {
		if err := ValidatePSKID(n); err != nil {
			t.Errorf("psk_id %q: %v", n, err)
		}
	}
	for _, n := range []string{"", "room 101", strings.Repeat("x", 65), "tab\there", "ünï"} {
		if err := ValidatePSKID(n); !fault.Is(err, fault.Invalid) {
			t.Errorf("psk_id %q accepted", n)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	want := time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2025-12-31T23:59:59", want},
		{"2025-12-31T23:59:59Z", want},
		{"2025-12-31T23:59:59.75Z", want},
		{"2026-01-01T00:59:59+01:00", want},
		{"2025-12-31 23:59:59", want},
		{"2025-12-31T23:59", want.Add(-59 * time.Second)},
		{"2025-12-31", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := ParseExpiry(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "31/12/2025", "2025-13-01T00:00:00", "1735689599"} {
		if _, err := ParseExpiry(bad); !fault.Is(err, fault.Invalid) {
			t.Errorf("ParseExpiry(%q) accepted", bad)
		}
	}
}

func TestResolveExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 500, time.UTC)
	hours := func(n int) *int { return &n }
	tests := []struct {
		name    string
		expires string
		hours   *int
		want    *time.Time
		field   string // invalid when set
	}{
		{name: "none"},
		{name: "in hours", hours: hours(24), want: ptr(time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC))},
		{name: "at", expires: "2025-07-01T00:00:00", want: ptr(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))},
		{name: "both", expires: "2025-07-01T00:00:00", hours: hours(1), field: "expires"},
		{name: "past", expires: "2025-06-01T11:59:59Z", field: "expires"},
		{name: "now", expires: "2025-06-01T12:00:00Z", field: "expires"},
		{name: "zero hours", hours: hours(0), field: "expires_in_hours"},
		{name: "negative hours", hours: hours(-5), field: "expires_in_hours"},
		{name: "too many hours", hours: hours(87601), field: "expires_in_hours"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveExpiry(tc.expires, tc.hours, now)
			if tc.field != "" {
				if !fault.Is(err, fault.Invalid) || fault.As(err).Details["field"] != tc.field {
					t.Fatalf("got %v, %v; want invalid %s", got, err, tc.field)
				}
				return
			}
			if err != nil || !sameTime(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestUsable(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	tests := []struct {
		name string
		p    PSK
		want bool
	}{
		{"enabled, no expiry", PSK{Enabled: true}, true},
		{"disabled", PSK{}, false},
		{"expires later", PSK{Enabled: true, Expires: &future}, true},
		{"expired", PSK{Enabled: true, Expires: &past}, false},
		{"at the expiry instant", PSK{Enabled: true, Expires: &now}, false},
	}
	for _, tc := range tests {
		if got := tc.p.Usable(now); got != tc.want {
			t.Errorf("%s: Usable = %v", tc.name, got)
		}
	}
	p := &PSK{ID: 1, GroupID: 2, Enabled: true, VLANID: ptr(10)}
	e := &Endpoint{PSKID: 1, GroupID: 2, Enabled: true}
	if !e.Usable(now, p) || *e.VLAN(p) != 10 {
		t.Fatal("endpoint on a usable PSK")
	}
	e.VLANID = ptr(20)
	if *e.VLAN(p) != 20 {
		t.Fatal("override ignored")
	}
	for name, bad := range map[string]*Endpoint{
		"disabled endpoint": {PSKID: 1, GroupID: 2},
		"other PSK":         {PSKID: 9, GroupID: 2, Enabled: true},
		"other group":       {PSKID: 1, GroupID: 3, Enabled: true},
	} {
		if bad.Usable(now, p) {
			t.Errorf("%s usable", name)
		}
	}
	p.Expires = &now
	if e.Usable(now, p) || e.Usable(now, nil) {
		t.Fatal("endpoint usable on an expired or missing PSK")
	}
}

func TestNewPassphrase(t *testing.T) {
	t.Parallel()
	counts := map[rune]int{}
	const n = 2000
	for range n {
		p := NewPassphrase(GeneratedLen)
		if len(p) != GeneratedLen {
			t.Fatalf("length %d", len(p))
		}
		if err := ValidatePassphrase(p); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(p, "0O1lIo") {
			t.Fatalf("look-alike character in %q", p)
		}
		for _, c := range p {
			counts[c]++
		}
	}
	if len(counts) != len(PassphraseAlphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(PassphraseAlphabet))
	}
	// Each symbol is expected n*12/56 ≈ 428 times; a modulo bias of 256 mod
	// 56 = 32 would give the first 32 symbols about 14% more.
	exp := float64(n*GeneratedLen) / float64(len(PassphraseAlphabet))
	for c, k := range counts {
		if float64(k) < exp*0.75 || float64(k) > exp*1.25 {
			t.Errorf("symbol %q drawn %d times, expected about %.0f", c, k, exp)
		}
	}
	if name := newPSKName(); len(name) != len("guest-")+8 || !strings.HasPrefix(name, "guest-") {
		t.Fatalf("generated psk_id %q", name)
	}
}
