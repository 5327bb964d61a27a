package apikey

import (
	"crypto/sha256"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	t.Parallel()
	for _, l := range layouts {
		t.Run(string(l.format), func(t *testing.T) {
			t.Parallel()
			const n = 2000
			seen := make(map[string]bool, n)
			counts := map[byte]int{}
			for range n {
				s := newSecret(l)
				if f, ok := formatOf(s); !ok || f != l.format {
					t.Fatalf("newSecret returned %q, which formatOf reads as %q, %v", s, f, ok)
				}
				if seen[s] {
					t.Fatalf("secret %q repeated", s)
				}
				seen[s] = true
				for i := len(l.prefix); i < len(s); i++ {
					counts[s[i]]++
				}
			}
			// base62: 86,000 characters over 62 symbols, about 1,387 each,
			// σ ≈ 37; a modulo bias of 256 % 62 would lift the first 8
			// symbols by 25 %. Hex: thousands per symbol, σ ≈ 2.5 %.
			alphabet := base62
			if l.hex {
				alphabet = "0123456789abcdef"
			}
			want := float64(n*l.body) / float64(len(alphabet))
			for _, c := range []byte(alphabet) {
				if got := float64(counts[c]); got < want*0.85 || got > want*1.15 {
					t.Errorf("symbol %q appears %v times, want about %.0f", c, got, want)
				}
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	nk := "nk_" + strings.Repeat("aZ9", 14) + "x"
	gk := "gk_" + nk[3:]
	nr := "nr_live_a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6"                // the NetRecon seed's example
	nz := "nekzus_a1b2c3d4e5f6789012345678901234567890abcdef1234567890abcdef123456" // the Nekzus seed's example
	cases := []struct {
		name   string
		secret string
		want   Format // "" for not well formed
	}{
		{"nk/issued shape", nk, FormatNetKey},
		{"gk/issued shape", gk, FormatGateKey},
		{"nr_live/seed example", nr, FormatNetRecon},
		{"nekzus/seed example", nz, FormatNekzus},
		{"bad/empty", "", ""},
		{"bad/nk short", nk[:len(nk)-1], ""},
		{"bad/nk long", nk + "a", ""},
		{"bad/unknown prefix", "nr" + nk[2:], ""},
		{"bad/underscore in body", nk[:10] + "_" + nk[11:], ""},
		{"bad/non-ASCII", nk[:len(nk)-2] + "é", ""},
		{"bad/nr_live upper-case hex", strings.ToUpper(nr[:9]) + nr[9:], ""},
		{"bad/nr_live non-hex", nr[:len(nr)-1] + "g", ""},
		{"bad/nr_live short", nr[:len(nr)-2], ""},
		{"bad/nekzus long", nz + "00", ""},
		{"bad/nekzus base62 body", "nekzus_" + strings.Repeat("Z", 64), ""},
		{"bad/nekzus prefix, nk length", "nekzus_" + nk[7:], ""},
		{"bad/JWT", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig", ""},
	}
	for _, c := range cases {
		f, ok := formatOf(c.secret)
		if f != c.want || ok != (c.want != "") || WellFormed(c.secret) != ok {
			t.Errorf("%s: formatOf(%q) = %q, %v; want %q", c.name, c.secret, f, ok, c.want)
		}
	}
}

func TestHash(t *testing.T) {
	secrets := []string{"short", "", strings.Repeat("x", maxSecretLen+1)}
	for _, l := range layouts {
		secrets = append(secrets, newSecret(l))
	}
	for _, s := range secrets {
		if Hash(s) != sha256.Sum256([]byte(s)) {
			t.Errorf("Hash(%q) is not its SHA-256", s)
		}
	}
	for _, l := range layouts {
		s := newSecret(l)
		if a := testing.AllocsPerRun(100, func() { Hash(s) }); a != 0 {
			t.Errorf("Hash of a %s key allocates %v times", l.format, a)
		}
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	id := newID()
	if len(id) != len("key_")+16 || !strings.HasPrefix(id, "key_") || strings.Trim(id[4:], "0123456789abcdef") != "" {
		t.Fatalf("id %q", id)
	}
}
