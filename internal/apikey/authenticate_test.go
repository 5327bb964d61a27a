package apikey_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func TestAuthenticateRejects(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		_, valid := f.create(t, f.adminA, apikey.NewKey{})
		revokedKey, revoked := f.create(t, f.adminA, apikey.NewKey{})
		if _, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), revokedKey.ID); err != nil {
			t.Fatal(err)
		}
		soon := f.clock.Now().Add(time.Hour)
		_, expiring := f.create(t, f.adminA, apikey.NewKey{ExpiresAt: &soon})
		mustAuth(t, f.svc, expiring)
		f.clock.Advance(time.Hour)

		unknown := "nk_" + strings.Repeat("A", 43)
		cases := []struct {
			name, secret, msg string
		}{
			{"401/empty", "", "invalid API key"},
			{"401/prefix only", "nk_", "invalid API key"},
			{"401/one character short", valid[:len(valid)-1], "invalid API key"},
			{"401/one character long", valid + "x", "invalid API key"},
			{"401/not base62", valid[:len(valid)-1] + "-", "invalid API key"},
			{"401/another product's prefix", "nr" + valid[2:], "invalid API key"},
			{"401/unknown", unknown, "invalid API key"},
			{"401/unknown again, from the negative cache", unknown, "invalid API key"},
			{"401/revoked", revoked, "API key revoked"},
			{"401/expired at its expiry", expiring, "API key expired"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p, d, err := f.svc.Authenticate(ctx, c.secret)
				wantFault(t, err, fault.Unauthorized, c.msg)
				if p != nil || d.Limit != 0 {
					t.Fatalf("rejected key returned principal %v, decision %+v", p, d)
				}
			})
		}
		mustAuth(t, f.svc, valid)
	})
}

// TestAuthenticateHotPath checks that a warm key touches the store not at
// all, that unknown keys are remembered for a while, and that concurrent
// misses share one load.
func TestAuthenticateHotPath(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		_, secret := f.create(t, f.adminA, apikey.NewKey{RatePerMinute: 500, RatePerHour: 10000})

		cold, st := f.service(t)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, _, err := cold.Authenticate(ctx, secret); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if r, w := st.reads.Load(), st.writes.Load(); r != 1 || w != 0 {
			t.Fatalf("20 concurrent first uses: %d reads, %d writes; want 1 and 0", r, w)
		}
		for range 100 {
			mustAuth(t, cold, secret)
		}
		if r, w := st.reads.Load(), st.writes.Load(); r != 1 || w != 0 {
			t.Fatalf("warm uses reached the store: %d reads, %d writes", r, w)
		}

		unknown := "nk_" + strings.Repeat("z", 43)
		for range 5 {
			if _, _, err := cold.Authenticate(ctx, unknown); !fault.Is(err, fault.Unauthorized) {
				t.Fatal(err)
			}
		}
		if r := st.reads.Load(); r != 2 {
			t.Fatalf("5 tries of an unknown key: %d store reads in all, want 2", r)
		}
		f.clock.Advance(31 * time.Second)
		_, _, _ = cold.Authenticate(ctx, unknown)
		if r := st.reads.Load(); r != 3 {
			t.Fatalf("unknown key after the negative TTL: %d store reads, want 3", r)
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		_, secret := f.create(t, f.adminA, apikey.NewKey{RatePerMinute: 3, RatePerHour: 5})
		for want := 2; want >= 0; want-- {
			_, d, err := f.svc.Authenticate(ctx, secret)
			if err != nil || !d.Allowed || d.Remaining != want || d.Limit != 3 {
				t.Fatalf("want allowed with %d remaining: %+v, %v", want, d, err)
			}
		}
		p, d, err := f.svc.Authenticate(ctx, secret)
		wantFault(t, err, fault.RateLimited, "rate limit")
		if p != nil || d.Allowed || d.Remaining != 0 || d.Limit != 3 || d.RetryAfter != time.Minute {
			t.Fatalf("4th call in a minute: principal %v, decision %+v", p, d)
		}

		f.clock.Advance(time.Minute)
		for want := 1; want >= 0; want-- {
			_, d, err := f.svc.Authenticate(ctx, secret)
			if err != nil || d.Remaining != want || d.Limit != 5 {
				t.Fatalf("next minute, hourly budget: want %d remaining of 5: %+v, %v", want, d, err)
			}
		}
		_, d, err = f.svc.Authenticate(ctx, secret)
		wantFault(t, err, fault.RateLimited, "rate limit")
		if d.Limit != 5 || d.RetryAfter != 59*time.Minute {
			t.Fatalf("hourly denial: %+v", d)
		}
	})
}

// TestOwnerLosesAccess checks that a key dies with its creator's access once
// the "user" event arrives, and follows the creator's current role.
func TestOwnerLosesAccess(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(f *fixture, p *authz.Principal)
		check  func(p *authz.Principal, err error) bool
	}{
		{"401/deactivated", func(f *fixture, p *authz.Principal) {
			f.users.update(p.UserID, func(st *userState) { st.active = false })
		}, rejectedWith("API key owner is no longer active")},
		{"401/deleted", func(f *fixture, p *authz.Principal) {
			f.users.remove(p.UserID)
		}, rejectedWith("API key owner is no longer active")},
		{"401/moved to another group", func(f *fixture, p *authz.Principal) {
			f.users.update(p.UserID, func(st *userState) { st.group = f.groupB })
		}, rejectedWith("no longer in the key's group")},
		{"200/demoted: acts with the new role", func(f *fixture, p *authz.Principal) {
			f.users.update(p.UserID, func(st *userState) { st.role = authz.User })
		}, func(p *authz.Principal, err error) bool { return err == nil && p.Role == authz.User }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db)
				owner := f.user(t, "owner", authz.GroupAdmin, f.groupA)
				_, secret := f.create(t, owner, apikey.NewKey{})
				mustAuth(t, f.svc, secret)
				c.change(f, owner)
				if p := mustAuth(t, f.svc, secret); p.Role != authz.GroupAdmin {
					t.Fatalf("changed before any event: %+v", p)
				}
				f.userEvent(t, owner)
				eventually(t, "key follows its owner", func() bool {
					p, _, err := f.svc.Authenticate(context.Background(), secret)
					return c.check(p, err)
				})
			})
		})
	}
}

func rejectedWith(msg string) func(*authz.Principal, error) bool {
	return func(_ *authz.Principal, err error) bool {
		fe := fault.As(err)
		return fe != nil && fe.Code == fault.Unauthorized && fe.Message != "" && strings.Contains(fe.Message, msg)
	}
}
