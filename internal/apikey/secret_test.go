package apikey

import (
	"crypto/sha256"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	t.Parallel()
	const n = 2000
	seen := make(map[string]bool, n)
	counts := map[byte]int{}
	for range n {
		s := newSecret()
		if !wellFormed(s) {
			t.Fatalf("newSecret returned %q, which wellFormed rejects", s)
		}
		if seen[s] {
			t.Fatalf("secret %q repeated", s)
		}
		seen[s] = true
		for i := len(secretPrefix); i < len(s); i++ {
			counts[s[i]]++
		}
	}
	// 86,000 characters over 62 symbols: about 1,387 each, σ ≈ 37. A modulo
	// bias of 256 % 62 would lift the first 8 symbols by 25 %.
	want := float64(n*secretRand) / 62
	for _, c := range []byte(base62) {
		if got := float64(counts[c]); got < want*0.85 || got > want*1.15 {
			t.Errorf("symbol %q appears %v times, want about %.0f", c, got, want)
		}
	}
}

func TestWellFormed(t *testing.T) {
	t.Parallel()
	good := "nk_" + strings.Repeat("aZ9", 14) + "x"
	cases := []struct {
		name   string
		secret string
		want   bool
	}{
		{"ok/issued shape", good, true},
		{"bad/empty", "", false},
		{"bad/short", good[:len(good)-1], false},
		{"bad/long", good + "a", false},
		{"bad/prefix", "nr" + good[2:], false},
		{"bad/underscore in body", good[:10] + "_" + good[11:], false},
		{"bad/non-ASCII", good[:len(good)-2] + "é", false},
	}
	for _, c := range cases {
		if got := wellFormed(c.secret); got != c.want {
			t.Errorf("%s: wellFormed(%q) = %v", c.name, c.secret, got)
		}
	}
}

func TestHash(t *testing.T) {
	for _, s := range []string{newSecret(), "short", ""} {
		if Hash(s) != sha256.Sum256([]byte(s)) {
			t.Errorf("Hash(%q) is not its SHA-256", s)
		}
	}
	s := newSecret()
	if a := testing.AllocsPerRun(100, func() { Hash(s) }); a != 0 {
		t.Errorf("Hash allocates %v times", a)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	id := newID()
	if len(id) != len("key_")+16 || !strings.HasPrefix(id, "key_") || strings.Trim(id[4:], "0123456789abcdef") != "" {
		t.Fatalf("id %q", id)
	}
}
