package identity_test

import (
	"context"
	"testing"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// A browser session token belongs to its session: it works while the
// session lives, slides forward while in use, never outlives the session,
// ends with a logout, and is never interchangeable with an access token.
func TestWebToken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.admin(t)
		res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		sid := res.Tokens.SessionID
		idle := identity.DefaultConfig().WebIdle

		if _, _, err := f.svc.WebToken(ctx, u.ID+1, sid); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("web token for another user's session: %v", err)
		}
		if _, _, err := f.svc.WebToken(ctx, u.ID, "no-such-session"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("web token for an unknown session: %v", err)
		}
		tok, exp, err := f.svc.WebToken(ctx, u.ID, sid)
		if err != nil {
			t.Fatal(err)
		}
		if got := exp.Sub(f.clock.Now()); got > idle || got < idle-time.Second {
			t.Fatalf("web token lasts %v, want %v", got, idle)
		}
		p, renewed, _, err := f.svc.AuthenticateWeb(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != authz.KindUser || p.UserID != u.ID || p.SessionID != sid || renewed != "" {
			t.Fatalf("principal %+v renewed %q", p, renewed)
		}

		// Neither token passes for the other.
		if _, err := f.svc.AuthenticateAccess(ctx, tok); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("web token accepted as an access token: %v", err)
		}
		if _, _, _, err := f.svc.AuthenticateWeb(ctx, res.Tokens.AccessToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("access token accepted as a web token: %v", err)
		}

		// Past half its life it is renewed; the renewal works too.
		f.clock.Add(idle/2 + time.Minute)
		_, renewed, rexp, err := f.svc.AuthenticateWeb(ctx, tok)
		if err != nil || renewed == "" || !rexp.After(exp) {
			t.Fatalf("no renewal past half-life: %v %q %v", err, renewed, rexp)
		}
		if _, _, _, err := f.svc.AuthenticateWeb(ctx, renewed); err != nil {
			t.Fatalf("renewed token refused: %v", err)
		}
		// Unused past its idle time it has expired.
		f.clock.Add(idle)
		if _, _, _, err := f.svc.AuthenticateWeb(ctx, tok); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("idle web token still works: %v", err)
		}

		// Never past the session's end.
		tok, exp, err = f.svc.WebToken(ctx, u.ID, sid)
		if err != nil {
			t.Fatal(err)
		}
		if exp.After(res.Tokens.RefreshExpires) {
			t.Fatalf("web token ends %v after its session %v", exp, res.Tokens.RefreshExpires)
		}

		// Logout ends it at once.
		if err := f.svc.Logout(ctx, &authz.Principal{Kind: authz.KindUser, UserID: u.ID, SessionID: sid}, src); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := f.svc.AuthenticateWeb(ctx, tok); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("web token works after logout: %v", err)
		}
	})
}

// A web token issued near the session's end expires with the session.
func TestWebTokenEndsWithSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.admin(t)
		res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(res.Tokens.RefreshExpires.Sub(f.clock.Now()) - time.Hour)
		_, exp, err := f.svc.WebToken(ctx, u.ID, res.Tokens.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if !exp.Equal(res.Tokens.RefreshExpires) {
			t.Fatalf("web token ends %v, session %v", exp, res.Tokens.RefreshExpires)
		}
		f.clock.Add(2 * time.Hour)
		if _, _, err := f.svc.WebToken(ctx, u.ID, res.Tokens.SessionID); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("web token for an ended session: %v", err)
		}
	})
}
