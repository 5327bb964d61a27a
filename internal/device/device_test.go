package device_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/device"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeUsers is the UserLookup edge: the test decides each user's state.
type fakeUsers struct {
	mu     sync.Mutex
	active map[int64]bool
	group  map[int64]int64
}

func (f *fakeUsers) UserState(_ context.Context, id int64) (authz.Role, int64, string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.group[id]
	if !ok {
		return "", 0, "", false, fault.New(fault.NotFound, "user not found")
	}
	return authz.GroupAdmin, g, "u", f.active[id], nil
}

var src = audit.Source{Actor: "test", IP: "192.0.2.1"}

type fixture struct {
	svc   *device.Service
	clock *fakeClock
	users *fakeUsers
	admin *authz.Principal
	db    *store.DB
}

var fixtures atomic.Int64

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	n := fixtures.Add(1)
	g := &identity.Group{Name: fmt.Sprint("acme-", n)}
	u := &identity.User{Username: fmt.Sprint("alice-", n), Role: identity.GroupAdmin, PasswordHash: "x", IsActive: true}
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		u.GroupID = g.ID
		return tx.CreateUser(ctx, u)
	}); err != nil {
		t.Fatal(err)
	}
	keys, err := secret.Derive([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	clock.ns.Store(time.Now().UnixNano())
	users := &fakeUsers{active: map[int64]bool{u.ID: true}, group: map[int64]int64{u.ID: g.ID}}
	bus := event.NewLocal()
	t.Cleanup(func() { bus.Close() })
	svc := device.NewService(store.For[device.Tx](db), keys, bus, users, device.Config{RefreshGrace: 10 * time.Minute},
		device.WithClock(clock.Now))
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return &fixture{svc: svc, clock: clock, users: users, db: db,
		admin: &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Role: authz.GroupAdmin, GroupID: g.ID}}
}

// pair runs the flow and returns the device's first token.
func (f *fixture) pair(t testing.TB, id string) string {
	t.Helper()
	ctx := context.Background()
	code, _, err := f.svc.NewCode(ctx, f.admin, src)
	if err != nil {
		t.Fatal(err)
	}
	red, err := f.svc.Redeem(ctx, src, code, "https://netkeep.example")
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := f.svc.Pair(ctx, src, red.BootstrapToken, device.NewDevice{ID: id, Platform: "ios"})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func wantCode(t *testing.T, err error, code fault.Code, what string) {
	t.Helper()
	if fault.CodeOf(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// TestLifetimes: each single-use secret dies at its documented age, and a
// device token may be renewed within the refresh grace after it expired.
func TestLifetimes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cases := []struct {
			name string
			run  func(t *testing.T, f *fixture) error
			want fault.Code
		}{
			{"code expired after 5 minutes", func(t *testing.T, f *fixture) error {
				code, exp, _ := f.svc.NewCode(ctx, f.admin, src)
				if got := exp.Sub(f.clock.Now()); got != device.CodeTTL {
					t.Errorf("code lifetime %v", got)
				}
				f.clock.Advance(device.CodeTTL)
				_, err := f.svc.Redeem(ctx, src, code, "")
				return err
			}, fault.NotFound},
			{"code live just before 5 minutes", func(t *testing.T, f *fixture) error {
				code, _, _ := f.svc.NewCode(ctx, f.admin, src)
				f.clock.Advance(device.CodeTTL - time.Second)
				_, err := f.svc.Redeem(ctx, src, code, "")
				return err
			}, ""},
			{"bootstrap token expired after 5 minutes", func(t *testing.T, f *fixture) error {
				code, _, _ := f.svc.NewCode(ctx, f.admin, src)
				red, _ := f.svc.Redeem(ctx, src, code, "")
				f.clock.Advance(device.BootstrapTTL)
				_, _, err := f.svc.Pair(ctx, src, red.BootstrapToken, device.NewDevice{ID: "late", Platform: "ios"})
				return err
			}, fault.Unauthorized},
			{"device token expired after 12 hours", func(t *testing.T, f *fixture) error {
				tok := f.pair(t, "d1")
				f.clock.Advance(device.TokenTTL)
				_, err := f.svc.Authenticate(ctx, tok)
				return err
			}, fault.Unauthorized},
			{"expired token renewed within the grace", func(t *testing.T, f *fixture) error {
				tok := f.pair(t, "d2")
				f.clock.Advance(device.TokenTTL + 9*time.Minute)
				renewed, err := f.svc.Refresh(ctx, tok)
				if err != nil {
					return err
				}
				_, err = f.svc.Authenticate(ctx, renewed.AccessToken)
				return err
			}, ""},
			{"expired token not renewed after the grace", func(t *testing.T, f *fixture) error {
				tok := f.pair(t, "d3")
				f.clock.Advance(device.TokenTTL + 11*time.Minute)
				_, err := f.svc.Refresh(ctx, tok)
				return err
			}, fault.Unauthorized},
			{"the user who paired it deactivated", func(t *testing.T, f *fixture) error {
				tok := f.pair(t, "d4")
				f.users.mu.Lock()
				f.users.active[f.admin.UserID] = false
				f.users.mu.Unlock()
				_, err := f.svc.Authenticate(ctx, tok)
				return err
			}, fault.Unauthorized},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.run(t, newFixture(t, db))
				if tc.want == "" && err != nil {
					t.Fatalf("unexpected %v", err)
				}
				if tc.want != "" {
					wantCode(t, err, tc.want, tc.name)
				}
			})
		}
	})
}

// TestRevocationAndPrincipal: a device token stands for the device within
// its scopes and group, and revocation ends it at once.
func TestRevocationAndPrincipal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		tok := f.pair(t, "phone")
		if !device.IsToken(tok) {
			t.Fatal("a device token lacks its header mark")
		}
		p, err := f.svc.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != authz.KindDevice || p.Subject != "phone" || p.GroupID != f.admin.GroupID || p.UserID != f.admin.UserID ||
			!p.Scopes.Has("apps:read") || !p.Scopes.Has("devices:read") || p.Scopes.Has("devices:write") {
			t.Fatalf("principal %+v", p)
		}
		wantCode(t, authz.Allow(p, "devices:write", authz.Any), fault.Forbidden, "device writes")
		wantCode(t, authz.Allow(p, "devices:read", authz.Resource{GroupID: p.GroupID + 1}), fault.NotFound, "another group")
		d, err := f.svc.Get(ctx, f.admin, "phone")
		if err != nil || d.LastSeenAt == nil {
			t.Fatalf("last use not recorded: %+v %v", d, err)
		}
		if _, err := f.svc.Revoke(ctx, f.admin, src, "phone"); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, tok)
		wantCode(t, err, fault.Unauthorized, "token after revocation")
		_, err = f.svc.Revoke(ctx, f.admin, src, "phone")
		wantCode(t, err, fault.NotFound, "revoking twice")
		// Pairing the id again makes a new pairing; the old token stays dead.
		fresh := f.pair(t, "phone")
		if _, err := f.svc.Authenticate(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, tok)
		wantCode(t, err, fault.Unauthorized, "token of the revoked pairing")
	})
}
