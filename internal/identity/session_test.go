package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// A correctly signed access token is accepted only for a session that
// exists, belongs to its subject and has not ended; a session opened by
// another instance over the same database is found on first use.
func TestAccessNeedsItsSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		admin := f.admin(t)
		other, err := f.svc.CreateUser(ctx, master, src, identity.NewUser{Username: "other", Email: "other@x.test", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		mine, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "other", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		// A second service over the same database: its caches know nothing.
		g := identity.NewService(store.For[identity.Tx](db), f.keys, event.NewLocal(), identity.DefaultConfig(),
			identity.WithPasswordParams(identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}))
		if err := g.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Close)
		sign := func(svc *identity.Service, sub int64, sid string, ttl time.Duration) string {
			now := f.clock.Now() // behind g's real clock: issued in the past for both
			tok, err := svc.Signer().Sign(jwt.MapClaims{"iss": identity.Issuer, "aud": identity.AudienceAPI,
				"sub": fmt.Sprint(sub), "sid": sid, "iat": now.Unix(), "exp": now.Add(ttl).Unix()})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		cases := []struct {
			name  string
			token string
			ok    bool
		}{
			{"200/issued token", mine.Tokens.AccessToken, true},
			{"200/own session, re-signed", sign(f.svc, admin.ID, mine.Tokens.SessionID, time.Hour), true},
			{"401/session that never existed", sign(f.svc, admin.ID, "0123456789abcdef0123456789abcdef", time.Hour), false},
			{"401/another user's session", sign(f.svc, admin.ID, theirs.Tokens.SessionID, time.Hour), false},
			{"401/own session named by another subject", sign(f.svc, other.ID, mine.Tokens.SessionID, time.Hour), false},
			{"401/no session", sign(f.svc, admin.ID, "", time.Hour), false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, svc := range []*identity.Service{f.svc, g, g} { // miss, then cached
					p, err := svc.AuthenticateAccess(ctx, c.token)
					if c.ok && (err != nil || p.UserID != admin.ID) {
						t.Fatalf("refused: %v", err)
					}
					if !c.ok && !fault.Is(err, fault.Unauthorized) {
						t.Fatalf("accepted: %+v %v", p, err)
					}
				}
			})
		}
	})
}
