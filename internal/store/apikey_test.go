package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// apiKeyOwner creates a group and a user in it for API key tests.
func apiKeyOwner(tb testing.TB, db *store.DB, name string) *identity.User {
	tb.Helper()
	ctx := context.Background()
	g := mustGroup(tb, db, name+"-group")
	u := &identity.User{Username: name, Role: identity.GroupAdmin, GroupID: g.ID, PasswordHash: "x", IsActive: true}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
		tb.Fatal(err)
	}
	return u
}

// storedKey is a key as the service would insert it; n varies id and hash.
func storedKey(u *identity.User, n int, created time.Time) *apikey.Key {
	return &apikey.Key{
		ID:            fmt.Sprintf("key_%016x", n),
		Name:          fmt.Sprint("key ", n),
		Prefix:        "nekzus_abc",
		Hash:          sha256.Sum256(fmt.Append(nil, "secret ", n)),
		Format:        apikey.FormatNekzus,
		Scopes:        []string{"read:events", "read:catalog"},
		Grants:        []string{"apps:read", "devices:read"},
		GroupID:       u.GroupID,
		CreatedBy:     u.ID,
		RatePerHour:   1000,
		RatePerMinute: 100,
		CreatedAt:     created,
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		alice, bob := apiKeyOwner(t, db, "alice"), apiKeyOwner(t, db, "bob")
		t0 := time.Date(2025, 1, 15, 10, 0, 0, 123456000, time.UTC)
		exp := t0.Add(24 * time.Hour)
		k1 := storedKey(alice, 1, t0)
		k1.ExpiresAt = &exp
		k2 := storedKey(alice, 2, t0.Add(time.Second))
		k3 := storedKey(bob, 3, t0.Add(2*time.Second))
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, k := range []*apikey.Key{k1, k2, k3} {
				if err := tx.CreateAPIKey(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		got, err := db.Read().APIKeyByHash(ctx, k1.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k1.ID || got.Hash != k1.Hash || got.CreatedByName != "alice" || !got.CreatedAt.Equal(t0) ||
			got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil || got.LastUsedAt != nil ||
			got.Format != apikey.FormatNekzus || fmt.Sprint(got.Scopes) != "[read:events read:catalog]" ||
			fmt.Sprint(got.Grants) != "[apps:read devices:read]" || got.RatePerHour != 1000 || got.RatePerMinute != 100 {
			t.Fatalf("by hash: %+v", got)
		}

		t.Run("conflicts and misses", func(t *testing.T) {
			dupHash := storedKey(alice, 9, t0)
			dupHash.Hash = k1.Hash
			dupID := storedKey(alice, 1, t0)
			dupID.Hash = sha256.Sum256([]byte("other"))
			for name, k := range map[string]*apikey.Key{"duplicate hash": dupHash, "duplicate id": dupID} {
				err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAPIKey(ctx, k) })
				if !fault.Is(err, fault.Conflict) {
					t.Errorf("%s: %v, want conflict", name, err)
				}
			}
			if _, err := db.Read().APIKeyByID(ctx, "key_missing"); !fault.Is(err, fault.NotFound) {
				t.Errorf("by missing id: %v", err)
			}
			if _, err := db.Read().APIKeyByHash(ctx, [32]byte{}); !fault.Is(err, fault.NotFound) {
				t.Errorf("by missing hash: %v", err)
			}
		})

		t.Run("list filters, newest first", func(t *testing.T) {
			cases := []struct {
				name string
				f    apikey.Filter
				want []string
			}{
				{"all", apikey.Filter{}, []string{k3.ID, k2.ID, k1.ID}},
				{"group", apikey.Filter{GroupID: alice.GroupID}, []string{k2.ID, k1.ID}},
				{"creator", apikey.Filter{CreatedBy: bob.ID}, []string{k3.ID}},
				{"group and other creator", apikey.Filter{GroupID: alice.GroupID, CreatedBy: bob.ID}, nil},
			}
			for _, c := range cases {
				keys, err := db.Read().ListAPIKeys(ctx, c.f)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				var ids []string
				for _, k := range keys {
					ids = append(ids, k.ID)
				}
				if fmt.Sprint(ids) != fmt.Sprint(c.want) {
					t.Errorf("%s: %v, want %v", c.name, ids, c.want)
				}
			}
		})

		t.Run("revoke once", func(t *testing.T) {
			at := t0.Add(time.Hour)
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIKey(ctx, k2.ID, at) }); err != nil {
				t.Fatal(err)
			}
			err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIKey(ctx, k2.ID, at.Add(time.Hour)) })
			if !fault.Is(err, fault.NotFound) {
				t.Fatalf("second revoke: %v, want not_found", err)
			}
			got, _ := db.Read().APIKeyByID(ctx, k2.ID)
			if got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
				t.Fatalf("revoked_at %v, want %v", got.RevokedAt, at)
			}
		})

		t.Run("touch only raises last use", func(t *testing.T) {
			later, earlier := t0.Add(2*time.Hour), t0.Add(time.Hour)
			touch := func(m map[string]time.Time) {
				t.Helper()
				if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchAPIKeys(ctx, m) }); err != nil {
					t.Fatal(err)
				}
			}
			touch(map[string]time.Time{k1.ID: later, k3.ID: earlier, "key_gone": later})
			touch(map[string]time.Time{k1.ID: earlier, k3.ID: later})
			for id, want := range map[string]time.Time{k1.ID: later, k3.ID: later} {
				got, _ := db.Read().APIKeyByID(ctx, id)
				if got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
					t.Errorf("%s: last_used_at %v, want %v", id, got.LastUsedAt, want)
				}
			}
		})

		t.Run("delete, and a key goes with its creator", func(t *testing.T) {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAPIKey(ctx, k1.ID) }); err != nil {
				t.Fatal(err)
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAPIKey(ctx, k1.ID) }); !fault.Is(err, fault.NotFound) {
				t.Fatalf("deleting twice: %v", err)
			}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteUser(ctx, bob.ID) }); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Read().APIKeyByID(ctx, k3.ID); !fault.Is(err, fault.NotFound) {
				t.Fatalf("key of a deleted user: %v", err)
			}
		})
	})
}

func TestAPIKeyStoreBindsToDomain(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	var _ apikey.Store = store.For[apikey.Tx](db)
}
