package identity_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkPassword measures argon2id at the production cost
// (DefaultPasswordParams: 19 MiB, 2 passes, 1 lane): hashing a new password
// and checking one, which every password login does once.
func BenchmarkPassword(b *testing.B) {
	p := identity.DefaultPasswordParams()
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := identity.HashPassword("correct horse battery", p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		h, err := identity.HashPassword("correct horse battery", p)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := identity.CheckPassword(h, "correct horse battery"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// benchService is an identity service at the production password cost over
// a fresh database of kind, with its first admin, on a settable clock.
func benchService(b *testing.B, kind config.DatabaseKind) (*identity.Service, *identity.User, *clock) {
	b.Helper()
	db := storetest.Open(b, kind)
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, _ := secret.Derive(root)
	bus := event.NewLocal()
	b.Cleanup(func() { bus.Close() })
	c := newClock()
	svc := identity.NewService(store.For[identity.Tx](db), keys, bus, identity.DefaultConfig(), identity.WithClock(c.Now))
	if err := svc.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(svc.Close)
	u, err := svc.Setup(context.Background(), src, "admin", "correct horse")
	if err != nil {
		b.Fatal(err)
	}
	return svc, u, c
}

// BenchmarkLogin measures Service.Login at the production password cost:
// user lookup, argon2id check, session and refresh token insert, audit
// entry, access JWT. with_totp adds opening the sealed TOTP secret and
// checking the code; the clock moves one TOTP period per login (outside
// the timer) so every code is fresh, as replay protection requires.
func BenchmarkLogin(b *testing.B) {
	ctx := context.Background()
	for _, kind := range storetest.Kinds() {
		b.Run(string(kind)+"/password", func(b *testing.B) {
			svc, _, _ := benchService(b, kind)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(kind)+"/with_totp", func(b *testing.B) {
			svc, u, c := benchService(b, kind)
			enr, err := svc.SetupMFA(ctx, userPrincipal(u), src)
			if err != nil {
				b.Fatal(err)
			}
			code, _ := identity.TOTPCode(enr.Secret, c.Now())
			if err := svc.EnableMFA(ctx, userPrincipal(u), src, code); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				c.Add(30 * time.Second)
				code, _ := identity.TOTPCode(enr.Secret, c.Now())
				b.StartTimer()
				res, err := svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse", TOTPCode: code})
				if err != nil || res.Tokens == nil {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// BenchmarkRefresh measures refresh-token rotation (Service.Refresh): look
// the token up by its SHA-256, check it is the family's current one, rotate
// (mark it used, insert the next), audit, sign a new access JWT. Each
// iteration presents the token the previous one returned.
func BenchmarkRefresh(b *testing.B) {
	ctx := context.Background()
	for _, kind := range storetest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			svc, _, _ := benchService(b, kind)
			res, err := svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
			if err != nil {
				b.Fatal(err)
			}
			token := res.Tokens.RefreshToken
			b.ReportAllocs()
			for b.Loop() {
				_, t, err := svc.Refresh(ctx, src, token)
				if err != nil {
					b.Fatal(err)
				}
				token = t.RefreshToken
			}
		})
	}
}
