package identity_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var src = audit.Source{Actor: "test", IP: "127.0.0.1"}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	svc   *identity.Service
	db    *store.DB
	clock *clock
	keys  *secret.Keys
}

func newFixture(tb testing.TB, db *store.DB) *fixture {
	tb.Helper()
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, _ := secret.Derive(root)
	c := newClock()
	svc := identity.NewService(store.For[identity.Tx](db), keys, event.NewLocal(), identity.DefaultConfig(),
		identity.WithClock(c.Now), identity.WithPasswordParams(identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}))
	if err := svc.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	return &fixture{svc: svc, db: db, clock: c, keys: keys}
}

func (f *fixture) admin(tb testing.TB) *identity.User {
	tb.Helper()
	u, err := f.svc.Setup(context.Background(), src, "admin", "correct horse")
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestSetupOnlyOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var wg sync.WaitGroup
		var ok, conflicts atomic.Int32
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := f.svc.Setup(ctx, src, fmt.Sprintf("admin%d", i), "correct horse")
				switch {
				case err == nil:
					ok.Add(1)
				case fault.Is(err, fault.Conflict):
					conflicts.Add(1)
				default:
					t.Errorf("setup: %v", err)
				}
			}(i)
		}
		wg.Wait()
		if ok.Load() != 1 || conflicts.Load() != 9 {
			t.Fatalf("%d setups succeeded, %d conflicts; want 1 and 9", ok.Load(), conflicts.Load())
		}
		if n, _ := db.Read().CountUsers(ctx); n != 1 {
			t.Fatalf("%d users after concurrent setup", n)
		}
	})
}

func TestLoginAndTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.admin(t)
		cases := []struct {
			name     string
			login    string
			password string
			code     fault.Code
		}{
			{"401/wrong password", "admin", "wrong password", fault.Unauthorized},
			{"401/unknown user", "nobody", "correct horse", fault.Unauthorized},
			{"400/missing password", "admin", "", fault.Invalid},
		}
		for _, c := range cases {
			_, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: c.login, Password: c.password})
			if !fault.Is(err, c.code) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "ADMIN", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.AuthenticateAccess(ctx, res.Tokens.AccessToken)
		if err != nil || p.Role != authz.SuperAdmin || p.Kind != authz.KindUser {
			t.Fatalf("access token: %+v %v", p, err)
		}
		if res.User.LastLogin == nil {
			t.Fatal("last_login not recorded")
		}
		// Expired access token.
		f.clock.Add(2 * time.Hour)
		if _, err := f.svc.AuthenticateAccess(ctx, res.Tokens.AccessToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("expired token accepted: %v", err)
		}
	})
}

func TestTokenForgery(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	f := newFixture(t, db)
	ctx := context.Background()
	u := f.admin(t)
	res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	tok := res.Tokens.AccessToken
	claims := jwt.MapClaims{"iss": identity.Issuer, "aud": identity.AudienceAPI, "sub": fmt.Sprint(u.ID),
		"sid": res.Tokens.SessionID, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("another key entirely 0123456789"))
	wrongAud := jwt.MapClaims{}
	for k, v := range claims {
		wrongAud[k] = v
	}
	wrongAud["aud"] = identity.AudienceNode
	nodeTok, _ := f.svc.Signer().Sign(wrongAud)
	cases := map[string]string{
		"alg none":           none,
		"foreign key":        other,
		"tampered signature": tok[:len(tok)-4] + "AAAA",
		"wrong audience":     nodeTok,
		"garbage":            "not.a.jwt",
	}
	for name, bad := range cases {
		if _, err := f.svc.AuthenticateAccess(ctx, bad); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

func TestRefreshRotationAndTheft(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.admin(t)
		res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		first := res.Tokens
		_, second, err := f.svc.Refresh(ctx, src, first.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if second.RefreshToken == first.RefreshToken || second.SessionID != first.SessionID {
			t.Fatal("refresh did not rotate within the same session")
		}
		if !second.RefreshExpires.Equal(first.RefreshExpires) {
			t.Fatal("rotation must not extend the session")
		}
		// Reusing the rotated token is theft: it fails and the family dies.
		if _, _, err := f.svc.Refresh(ctx, src, first.RefreshToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("reuse: %v", err)
		}
		if _, _, err := f.svc.Refresh(ctx, src, second.RefreshToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("family survived theft: %v", err)
		}
		if _, err := f.svc.AuthenticateAccess(ctx, second.AccessToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("access token of a revoked family still works: %v", err)
		}
		logs, _ := db.Read().ListAudit(ctx, audit.Query{Action: "auth.token_theft", Limit: 10})
		if len(logs) != 1 {
			t.Fatalf("%d theft audit entries", len(logs))
		}
		// Garbage and unknown tokens.
		for _, bad := range []string{"", "rt_unknown", "eyJhbGciOi.x.y"} {
			if _, _, err := f.svc.Refresh(ctx, src, bad); !fault.Is(err, fault.Unauthorized) {
				t.Errorf("refresh(%q): %v", bad, err)
			}
		}
	})
}

func TestConcurrentRefreshOneWinner(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.admin(t)
		res, _ := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		var wg sync.WaitGroup
		var wins atomic.Int32
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := f.svc.Refresh(ctx, src, res.Tokens.RefreshToken); err == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent refreshes of one token succeeded, want 1", wins.Load())
		}
	})
}

func TestLogoutRevokesAccess(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.admin(t)
		res, _ := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		other, _ := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
		if err := f.svc.Logout(ctx, &authz.Principal{Kind: authz.KindUser, UserID: u.ID, SessionID: res.Tokens.SessionID}, src); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateAccess(ctx, res.Tokens.AccessToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("logged-out access token works: %v", err)
		}
		if _, _, err := f.svc.Refresh(ctx, src, res.Tokens.RefreshToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("logged-out refresh token works: %v", err)
		}
		if _, err := f.svc.AuthenticateAccess(ctx, other.Tokens.AccessToken); err != nil {
			t.Fatalf("other session ended too: %v", err)
		}
		// A second replica (fresh service, same DB) learns revocations at start.
		g := newFixture(t, db)
		if _, err := g.svc.AuthenticateAccess(ctx, res.Tokens.AccessToken); err == nil {
			// Keys differ per fixture, so the token cannot verify there at all;
			// what matters is that it is refused.
			t.Fatal("revoked token accepted by a second service")
		}
	})
}

func TestTOTPReplayAndLockout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		u := f.admin(t)
		enr, err := f.svc.SetupMFA(ctx, userPrincipal(u), src)
		if err != nil {
			t.Fatal(err)
		}
		// The secret is sealed at rest.
		stored, _ := db.Read().UserByID(ctx, u.ID)
		if string(stored.MFASecret) == enr.Secret || len(stored.MFASecret) == 0 {
			t.Fatal("TOTP secret stored in clear")
		}
		if err := f.svc.EnableMFA(ctx, userPrincipal(u), src, "000000"); !fault.Is(err, fault.Invalid) {
			t.Fatalf("enable with wrong code: %v", err)
		}
		f.clock.Add(30 * time.Second)
		code, _ := identity.TOTPCode(enr.Secret, f.clock.Now())
		if err := f.svc.EnableMFA(ctx, userPrincipal(u), src, code); err != nil {
			t.Fatal(err)
		}
		// Without a code: a prompt for clients that show one, else the error.
		res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse", MFAPrompt: true})
		if err != nil || !res.MFARequired || res.Tokens != nil {
			t.Fatalf("login without code: %+v %v", res, err)
		}
		if _, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"}); fault.As(err) == nil || fault.As(err).Reason != identity.ReasonMFARequired {
			t.Fatalf("login without code, no prompt: %v", err)
		}
		// The code used to enable cannot log in (replay).
		if _, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse", TOTPCode: code}); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("replayed code: %v", err)
		}
		f.clock.Add(30 * time.Second)
		code2, _ := identity.TOTPCode(enr.Secret, f.clock.Now())
		if _, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse", TOTPCode: code2}); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		if _, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse", TOTPCode: code2}); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("code accepted twice: %v", err)
		}

		// Lockout: identical answers for a real and a made-up name.
		for _, name := range []string{"admin", "ghost"} {
			var last error
			for i := 0; i < 5; i++ {
				_, last = f.svc.Login(ctx, src, identity.LoginRequest{Login: name, Password: "bad password"})
			}
			if !fault.Is(last, fault.RateLimited) {
				t.Fatalf("%s: 5th failure not locked: %v", name, last)
			}
			_, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: name, Password: "correct horse", TOTPCode: "123456"})
			if !fault.Is(err, fault.RateLimited) {
				t.Fatalf("%s: locked account accepted an attempt: %v", name, err)
			}
		}
		f.clock.Add(31 * time.Second)
		f.clock.Add(30 * time.Second)
		code3, _ := identity.TOTPCode(enr.Secret, f.clock.Now())
		if _, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse", TOTPCode: code3}); err != nil {
			t.Fatalf("after the lock expired: %v", err)
		}
	})
}

func TestConcurrentLogins(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.admin(t)
		var wg sync.WaitGroup
		sessions := make([]string, 50)
		for i := range sessions {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				res, err := f.svc.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
				if err != nil {
					t.Errorf("login %d: %v", i, err)
					return
				}
				sessions[i] = res.Tokens.SessionID
			}(i)
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, s := range sessions {
			if s == "" || seen[s] {
				t.Fatalf("sessions not distinct: %v", sessions)
			}
			seen[s] = true
		}
		logs, _ := db.Read().ListAudit(ctx, audit.Query{Action: "auth.login", Limit: 100})
		if len(logs) != 50 {
			t.Fatalf("%d login audit entries, want 50", len(logs))
		}
	})
}

func TestUserManagementRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		admin := f.admin(t)
		super := &authz.Principal{Kind: authz.KindUser, UserID: admin.ID, Role: authz.SuperAdmin, GroupID: admin.GroupID}
		gA, _ := f.svc.CreateGroup(ctx, super, src, "A")
		gB, _ := f.svc.CreateGroup(ctx, super, src, "B")
		ga, err := f.svc.CreateUser(ctx, super, src, identity.NewUser{Username: "ga", Email: "ga@x.test", Password: "password1", Role: identity.GroupAdmin, GroupID: gA.ID})
		if err != nil {
			t.Fatal(err)
		}
		gb, _ := f.svc.CreateUser(ctx, super, src, identity.NewUser{Username: "gb", Email: "gb@x.test", Password: "password1", Role: identity.GroupAdmin, GroupID: gB.ID})
		pa := &authz.Principal{Kind: authz.KindUser, UserID: ga.ID, Role: authz.GroupAdmin, GroupID: gA.ID}
		pb := &authz.Principal{Kind: authz.KindUser, UserID: gb.ID, Role: authz.GroupAdmin, GroupID: gB.ID}

		_, err = f.svc.CreateUser(ctx, pa, src, identity.NewUser{Username: "boss", Email: "boss@x.test", Password: "password1", Role: identity.SuperAdmin})
		if !fault.Is(err, fault.Forbidden) {
			t.Fatalf("group admin created a super admin: %v", err)
		}
		_, err = f.svc.CreateUser(ctx, pa, src, identity.NewUser{Username: "x", Email: "x@x.test", Password: "password1", GroupID: gB.ID})
		if !fault.Is(err, fault.Forbidden) {
			t.Fatalf("group admin created a user in another group: %v", err)
		}
		ua, err := f.svc.CreateUser(ctx, pa, src, identity.NewUser{Username: "ua", Email: "ua@x.test", Password: "password1"})
		if err != nil || ua.GroupID != gA.ID || ua.Role != identity.RoleUser {
			t.Fatalf("create in own group: %+v %v", ua, err)
		}
		if _, err := f.svc.GetUser(ctx, pb, ua.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other group sees the user: %v", err)
		}
		if err := f.svc.DeleteUser(ctx, pb, src, ua.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("other group deletes the user: %v", err)
		}
		moved := gB.ID
		if _, err := f.svc.UpdateUser(ctx, pa, src, ua.ID, identity.UserPatch{GroupID: &moved}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("group admin moved a user: %v", err)
		}
		list, _ := f.svc.ListUsers(ctx, pb)
		for _, u := range list {
			if u.GroupID != gB.ID {
				t.Fatalf("group B lists %s of group %d", u.Username, u.GroupID)
			}
		}
		// A USER may change its own password but not its role.
		pu := &authz.Principal{Kind: authz.KindUser, UserID: ua.ID, Role: authz.User, GroupID: gA.ID}
		pw := "new password"
		if _, err := f.svc.UpdateUser(ctx, pu, src, ua.ID, identity.UserPatch{Password: &pw}); err != nil {
			t.Fatalf("self password change: %v", err)
		}
		role := identity.GroupAdmin
		if _, err := f.svc.UpdateUser(ctx, pu, src, ua.ID, identity.UserPatch{Role: &role}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("user promoted itself: %v", err)
		}
		// A GROUP_ADMIN sharing the SUPER_ADMIN's group cannot take over its
		// account.
		gd, err := f.svc.CreateUser(ctx, super, src, identity.NewUser{Username: "gd", Email: "gd@x.test", Password: "password1", Role: identity.GroupAdmin})
		if err != nil || gd.GroupID != admin.GroupID {
			t.Fatalf("group admin in the default group: %+v %v", gd, err)
		}
		pd := &authz.Principal{Kind: authz.KindUser, UserID: gd.ID, Role: authz.GroupAdmin, GroupID: gd.GroupID}
		stolen, off0 := "stolen password", false
		for name, patch := range map[string]identity.UserPatch{
			"password":   {Password: &stolen},
			"deactivate": {IsActive: &off0},
			"email":      {Email: &stolen},
		} {
			if _, err := f.svc.UpdateUser(ctx, pd, src, admin.ID, patch); !fault.Is(err, fault.Forbidden) {
				t.Fatalf("group admin changed the super admin's %s: %v", name, err)
			}
		}
		if err := f.svc.DeleteUser(ctx, pd, src, admin.ID); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("group admin deleted the super admin: %v", err)
		}
		// The master key belongs to no group: its users land in the default one.
		master := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
		mu, err := f.svc.CreateUser(ctx, master, src, identity.NewUser{Username: "by-master", Email: "by-master@x.test", Password: "password1"})
		if err != nil || mu.GroupID != admin.GroupID {
			t.Fatalf("user created by the master key: %+v %v", mu, err)
		}
		if has, err := f.svc.HasSuperAdmin(ctx); !has || err != nil {
			t.Fatalf("HasSuperAdmin = %v, %v", has, err)
		}

		// The last SUPER_ADMIN stays.
		if err := f.svc.DeleteUser(ctx, super, src, admin.ID); !fault.Is(err, fault.Conflict) {
			t.Fatalf("deleted the last super admin: %v", err)
		}
		// Deactivation ends sessions at once.
		res, _ := f.svc.Login(ctx, src, identity.LoginRequest{Login: "ua", Password: pw})
		off := false
		if _, err := f.svc.UpdateUser(ctx, pa, src, ua.ID, identity.UserPatch{IsActive: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateAccess(ctx, res.Tokens.AccessToken); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("deactivated user's token works: %v", err)
		}
	})
}

// userPrincipal is u's own session principal (MFA acts on one's own account).
func userPrincipal(u *identity.User) *authz.Principal {
	return &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Role: authz.Role(u.Role), GroupID: u.GroupID}
}
