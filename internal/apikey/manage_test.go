package apikey_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func keyIDs(keys []*apikey.Key) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

func TestGroupIsolation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		kA, _ := f.create(t, f.adminA, apikey.NewKey{})
		kB, _ := f.create(t, f.adminB, apikey.NewKey{})
		master := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

		cases := []struct {
			name string
			p    *authz.Principal
			want []string
		}{
			{"group A admin", f.adminA, []string{kA.ID}},
			{"group B admin", f.adminB, []string{kB.ID}},
			{"super admin", f.super, sorted(kA.ID, kB.ID)},
			{"master key", master, sorted(kA.ID, kB.ID)},
		}
		for _, c := range cases {
			keys, err := f.svc.List(ctx, c.p)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := keyIDs(keys); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s lists %v, want %v", c.name, got, c.want)
			}
		}

		if _, err := f.svc.Get(ctx, f.adminB, kA.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("B gets A's key: %v", err)
		}
		if _, err := f.svc.Revoke(ctx, f.adminB, source(f.adminB), kA.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("B revokes A's key: %v", err)
		}
		if err := f.svc.Delete(ctx, f.adminB, source(f.adminB), kA.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("B deletes A's key: %v", err)
		}
		if got, err := f.svc.Get(ctx, f.super, kA.ID); err != nil || got.RevokedAt != nil {
			t.Fatalf("A's key after B's attempts: %+v, %v", got, err)
		}
		if _, err := f.svc.Get(ctx, f.adminA, "key_0000000000000000"); !fault.Is(err, fault.NotFound) {
			t.Errorf("missing key: %v", err)
		}
	})
}

func TestUserSeesOwnKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		mine, _ := f.create(t, f.userA, apikey.NewKey{})
		theirs, _ := f.create(t, f.userA2, apikey.NewKey{})
		admins, _ := f.create(t, f.adminA, apikey.NewKey{})

		keys, err := f.svc.List(ctx, f.userA)
		if err != nil || fmt.Sprint(keyIDs(keys)) != fmt.Sprint([]string{mine.ID}) {
			t.Fatalf("user lists %v (%v), want only its own %s", keyIDs(keys), err, mine.ID)
		}
		keys, _ = f.svc.List(ctx, f.adminA)
		if got, want := keyIDs(keys), sorted(mine.ID, theirs.ID, admins.ID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("group admin lists %v, want %v", got, want)
		}
		if _, err := f.svc.Get(ctx, f.userA, theirs.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("user gets another user's key: %v", err)
		}
		// Not forbidden: that would reveal a key the user cannot list.
		if _, err := f.svc.Revoke(ctx, f.userA, source(f.userA), theirs.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("user revokes another user's key: %v", err)
		}
		if err := f.svc.Delete(ctx, f.userA, source(f.userA), admins.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("user deletes the admin's key: %v", err)
		}
		if _, err := f.svc.Revoke(ctx, f.userA, source(f.userA), mine.ID); err != nil {
			t.Errorf("user revokes its own key: %v", err)
		}
		if _, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), theirs.ID); err != nil {
			t.Errorf("group admin revokes a user's key: %v", err)
		}
	})
}

func TestRevokeAndDelete(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		k, secret := f.create(t, f.adminA, apikey.NewKey{})
		mustAuth(t, f.svc, secret)
		sub := f.bus.Subscribe("apikey")
		defer sub.Close()

		got, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), k.ID)
		if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(f.clock.Now()) {
			t.Fatalf("revoke: %+v, %v", got, err)
		}
		if e := receive(t, sub); e.Action != "revoked" || e.ID != k.ID {
			t.Fatalf("event %+v", e)
		}
		if _, _, err := f.svc.Authenticate(ctx, secret); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("revoked key authenticates: %v", err)
		}
		if again, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), k.ID); err != nil || !again.RevokedAt.Equal(*got.RevokedAt) {
			t.Fatalf("revoking again: %+v, %v", again, err)
		}

		if err := f.svc.Delete(ctx, f.adminA, source(f.adminA), k.ID); err != nil {
			t.Fatal(err)
		}
		if e := receive(t, sub); e.Action != "deleted" || e.ID != k.ID {
			t.Fatalf("event %+v (revoking twice must not publish)", e)
		}
		if _, err := f.svc.Get(ctx, f.adminA, k.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleted key: %v", err)
		}
		wantFault(t, func() error { _, _, err := f.svc.Authenticate(ctx, secret); return err }(), fault.Unauthorized, "invalid API key")
		if err := f.svc.Delete(ctx, f.adminA, source(f.adminA), k.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if got := auditActions(t, db, "apikey:"+k.ID); fmt.Sprint(got) != "[apikey.create apikey.revoke apikey.delete]" {
			t.Fatalf("audit %v", got)
		}
	})
}

// TestRevokeReachesReplica runs two services on one database and bus, as two
// replicas: a change through one takes effect in the other's warm cache.
func TestRevokeReachesReplica(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		replica, st := f.service(t)
		k1, s1 := f.create(t, f.adminA, apikey.NewKey{})
		k2, s2 := f.create(t, f.adminA, apikey.NewKey{})
		mustAuth(t, replica, s1)
		mustAuth(t, replica, s2)
		reads := st.reads.Load()

		if _, err := f.svc.Revoke(ctx, f.adminA, source(f.adminA), k1.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "revoke reaches the replica", func() bool {
			_, _, err := replica.Authenticate(ctx, s1)
			return rejectedWith("API key revoked")(nil, err)
		})
		if err := f.svc.Delete(ctx, f.adminA, source(f.adminA), k2.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "delete reaches the replica", func() bool {
			_, _, err := replica.Authenticate(ctx, s2)
			return rejectedWith("invalid API key")(nil, err)
		})
		if r := st.reads.Load() - reads; r > 4 {
			t.Fatalf("replica read the store %d times to learn of two changes", r)
		}
	})
}
