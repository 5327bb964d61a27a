package mesh

import (
	"net/netip"
	"testing"
)

func TestFreeRange24(t *testing.T) {
	t.Parallel()
	p := netip.MustParsePrefix
	cases := []struct {
		name  string
		taken []netip.Prefix
		want  string
	}{
		{"first", nil, "100.64.0.0/24"},
		{"skips taken", []netip.Prefix{p("100.64.0.0/24"), p("100.64.1.0/24")}, "100.64.2.0/24"},
		{"skips a covering range", []netip.Prefix{p("100.64.0.0/22")}, "100.64.4.0/24"},
		{"skips a contained range", []netip.Prefix{p("100.64.0.128/25")}, "100.64.1.0/24"},
		{"crosses an octet", []netip.Prefix{p("100.64.0.0/16")}, "100.65.0.0/24"},
		{"other space is irrelevant", []netip.Prefix{p("10.0.0.0/8")}, "100.64.0.0/24"},
	}
	for _, c := range cases {
		got, ok := freeRange24(c.taken)
		if !ok || got.String() != c.want {
			t.Errorf("%s: %v %v, want %s", c.name, got, ok, c.want)
		}
	}
	if _, ok := freeRange24([]netip.Prefix{p("100.64.0.0/10")}); ok {
		t.Error("a full space yielded a range")
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	p := newPool(netip.MustParsePrefix("10.0.0.0/29")) // hosts .1 to .6
	if p.capacity() != 6 {
		t.Fatalf("capacity %d", p.capacity())
	}
	var got []string
	for i := int64(1); i <= 6; i++ {
		a, ok := p.take(i)
		if !ok {
			t.Fatalf("take %d failed", i)
		}
		got = append(got, a.String())
	}
	if got[0] != "10.0.0.1" || got[5] != "10.0.0.6" {
		t.Fatalf("allocated %v", got)
	}
	if _, ok := p.take(7); ok {
		t.Fatal("took from a full pool")
	}
	p.release(netip.MustParseAddr("10.0.0.3"), 99) // not its owner: no effect
	if _, ok := p.take(7); ok {
		t.Fatal("release by a non-owner freed an address")
	}
	p.release(netip.MustParseAddr("10.0.0.3"), 3)
	if a, ok := p.take(7); !ok || a.String() != "10.0.0.3" {
		t.Fatalf("reuse: %v %v", a, ok)
	}
	for _, a := range []string{"10.0.0.0", "10.0.0.7", "10.0.1.1"} {
		if p.contains(netip.MustParseAddr(a)) {
			t.Errorf("pool contains %s", a)
		}
	}
	if !p.claim(netip.MustParseAddr("10.0.0.3"), 7) || p.claim(netip.MustParseAddr("10.0.0.3"), 8) {
		t.Fatal("claim")
	}

	v6 := newPool(netip.MustParsePrefix("fd00::/64"))
	a, _ := v6.take(1)
	b, _ := v6.take(2)
	if a.String() != "fd00::1" || b.String() != "fd00::2" || v6.capacity() <= 1<<40 {
		t.Fatalf("v6: %v %v %d", a, b, v6.capacity())
	}
	if lastAddr(netip.MustParsePrefix("fd00::/120")).String() != "fd00::ff" {
		t.Fatal("lastAddr")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{"skynet": true, "a": true, "my-net-2": true, "": false, "-a": false, "a-": false,
		"Sky": false, "a_b": false, "a23456789012345678901234567890123": false, "a2345678901234567890123456789012": true} {
		if (ValidateNetID(id) == nil) != ok {
			t.Errorf("ValidateNetID(%q) ok = %v", id, !ok)
		}
	}
	for in, want := range map[string]string{"8C:90:B5:06:F1:D9": "8c:90:b5:06:f1:d9", "8c-90-b5-06-f1-d9": "8c:90:b5:06:f1:d9",
		"8c90.b506.f1d9": "8c:90:b5:06:f1:d9", "8c90b5-06f1d9": "8c:90:b5:06:f1:d9", "8c:90:b5:06:f1:d9:00:01": "", "x": "", "": ""} {
		got, err := NormalizeMAC(in)
		if (err == nil) != (want != "") || got != want {
			t.Errorf("NormalizeMAC(%q) = %q, %v", in, got, err)
		}
	}
	rs, err := ParseEgressRanges([]string{"10.1.2.3/16", "10.1.0.0/16", " fd00::1/64 "})
	if err != nil || len(rs) != 2 || rs[0].String() != "10.1.0.0/16" || rs[1].String() != "fd00::/64" {
		t.Fatalf("ParseEgressRanges = %v, %v", rs, err)
	}
	for _, bad := range [][]string{nil, {"nope"}, {"10.0.0.0/33"}} {
		if _, err := ParseEgressRanges(bad); err == nil {
			t.Errorf("ParseEgressRanges(%v) accepted", bad)
		}
	}
}
