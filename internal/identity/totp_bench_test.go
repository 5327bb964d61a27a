package identity

import (
	"testing"
	"time"
)

// BenchmarkTOTP measures checking a TOTP code (RFC 6238, SHA-1, six digits,
// ±1 step): a code of the current step, and a wrong code, which costs every
// step of the window. Login adds opening the sealed secret (AES-GCM).
func BenchmarkTOTP(b *testing.B) {
	enr, err := newEnrolment("netkeep", "admin")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	good, err := TOTPCode(enr.Secret, now)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, code string
		match      bool
	}{{"match", good, true}, {"no_match", "000000", false}} {
		if c.code == good && !c.match {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if step := checkTOTP(enr.Secret, c.code, now, 0); (step != 0) != c.match {
					b.Fatalf("step %d for %s", step, c.name)
				}
			}
		})
	}
}
