package mac

import (
	"bytes"
	"testing"
)

func TestParse(t *testing.T) {
	const want = Addr(0xaabbccddee0f)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"ok/bare", "aabbccddee0f", true},
		{"ok/bare upper", "AABBCCDDEE0F", true},
		{"ok/colons", "aa:bb:cc:dd:ee:0f", true},
		{"ok/colons upper", "AA:BB:CC:DD:EE:0F", true},
		{"ok/dashes", "aa-bb-cc-dd-ee-0f", true},
		{"ok/dashes upper", "AA-BB-CC-DD-EE-0F", true},
		{"ok/dotted pairs", "aa.bb.cc.dd.ee.0f", true},
		{"ok/cisco dots", "aabb.ccdd.ee0f", true},
		{"ok/huawei dashes", "aabb-ccdd-ee0f", true},
		{"ok/quads with colons", "aabb:ccdd:ee0f", true},
		{"ok/hpe halves", "aabbcc-ddee0f", true},
		{"ok/halves with colon", "aabbcc:ddee0f", true},
		{"ok/mixed case", "Aa:bB:cc:DD:ee:0F", true},
		{"bad/empty", "", false},
		{"bad/short", "aa:bb:cc:dd:ee", false},
		{"bad/one digit short", "aa:bb:cc:dd:ee:f", false},
		{"bad/long", "aa:bb:cc:dd:ee:0f:11", false},
		{"bad/eui-64", "aa:bb:cc:dd:ee:0f:11:22", false},
		{"bad/eui-64 bare", "aabbccddee0f1122", false},
		{"bad/13 bare digits", "aabbccddee0f1", false},
		{"bad/mixed separators", "aa:bb-cc:dd:ee:0f", false},
		{"bad/pairs mixing dash and colon", "aa-bb:cc-dd:ee-0f", false},
		{"bad/misplaced dot", "aab.bccd.dee0f", false},
		{"bad/unequal groups", "a:abb:cc:dd:ee:0f", false},
		{"bad/non hex", "gg:bb:cc:dd:ee:0f", false},
		{"bad/leading separator", ":aabbccddee0f", false},
		{"bad/space separator", "aa bb cc dd ee 0f", false},
		{"bad/slash separator", "aa/bb/cc/dd/ee/0f", false},
		{"bad/surrounding space", " aabbccddee0f", false},
		{"bad/user name", "alice", false},
		{"bad/NUL", "aabbccddee0\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse([]byte(tt.in))
			if ok != tt.ok || (ok && got != want) {
				t.Fatalf("Parse(%q) = %x, %v; want %x, %v", tt.in, got, ok, want, tt.ok)
			}
			if s, sok := ParseString(tt.in); s != got || sok != ok {
				t.Fatalf("ParseString(%q) = %x, %v; Parse says %x, %v", tt.in, s, sok, got, ok)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	a := Addr(0x0a1b2c3d4e5f)
	tests := []struct {
		name string
		f    Format
		want string
	}{
		{"bare", Bare, "0a1b2c3d4e5f"},
		{"bare upper", BareUpper, "0A1B2C3D4E5F"},
		{"colon", Colon, "0a:1b:2c:3d:4e:5f"},
		{"colon upper", ColonUpper, "0A:1B:2C:3D:4E:5F"},
		{"dash", Dash, "0a-1b-2c-3d-4e-5f"},
		{"dash upper", DashUpper, "0A-1B-2C-3D-4E-5F"},
		{"dot", Dot, "0a1b.2c3d.4e5f"},
		{"dot upper", DotUpper, "0A1B.2C3D.4E5F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(a.AppendFormat(nil, tt.f)); got != tt.want {
				t.Fatalf("AppendFormat = %q, want %q", got, tt.want)
			}
			if back, ok := ParseString(tt.want); !ok || back != a {
				t.Fatalf("ParseString(%q) = %x, %v", tt.want, back, ok)
			}
		})
	}
	if got := a.String(); got != "0a:1b:2c:3d:4e:5f" {
		t.Fatalf("String = %q", got)
	}
	if b := a.Bytes(); !bytes.Equal(b[:], []byte{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}) {
		t.Fatalf("Bytes = %x", b)
	}
	if back, ok := FromBytes([]byte{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f}); !ok || back != a {
		t.Fatalf("FromBytes = %x, %v", back, ok)
	}
	if _, ok := FromBytes([]byte{1, 2, 3}); ok {
		t.Fatal("FromBytes accepted 3 bytes")
	}
}

func TestStation(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		station bool
	}{
		{"unicast", "aa:bb:cc:dd:ee:0f", true},
		{"locally administered", "02:00:00:00:00:01", true},
		{"all zero", "00:00:00:00:00:00", false},
		{"broadcast", "ff:ff:ff:ff:ff:ff", false},
		{"multicast", "01:00:5e:00:00:01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := ParseString(tt.in)
			if !ok || a.IsStation() != tt.station {
				t.Fatalf("%s: parsed %v, IsStation %v; want %v", tt.in, ok, a.IsStation(), tt.station)
			}
		})
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	b := []byte("AA-BB-CC-DD-EE-0F")
	if n := testing.AllocsPerRun(100, func() { _, _ = Parse(b); _, _ = ParseString("aabb.ccdd.ee0f") }); n != 0 {
		t.Fatalf("Parse allocates %v times", n)
	}
}
