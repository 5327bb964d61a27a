package apikey_test

import (
	"context"
	"testing"

	"netkeep/internal/apikey"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// An administrator's key for a user of its group is the user's: it
// authenticates as the user, within the user's role, and is listed and
// revoked by the user's id; other groups and non-administrators get
// not_found or forbidden, and nothing is written for them.
func TestKeysForAUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()

		k, secret, err := f.svc.CreateFor(ctx, f.adminA, source(f.adminA), f.userA.UserID,
			apikey.NewKey{Name: "ci", Scopes: []string{"psks:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if k.CreatedBy != f.userA.UserID || k.GroupID != f.groupA || k.CreatedByName != "userA" {
			t.Fatalf("key = %+v, want userA's in group A", k)
		}
		if p := mustAuth(t, f.svc, secret); p.UserID != f.userA.UserID || p.Role != f.userA.Role {
			t.Fatalf("key acts as %+v, want userA", p)
		}
		if got := auditActions(t, db, "apikey:"+k.ID); len(got) != 1 || got[0] != "apikey.create" {
			t.Fatalf("audit = %v", got)
		}
		// The user's role bounds the key: a USER holds no users:write.
		_, _, err = f.svc.CreateFor(ctx, f.adminA, source(f.adminA), f.userA.UserID,
			apikey.NewKey{Name: "too much", Scopes: []string{"users:write"}})
		wantFault(t, err, fault.Forbidden, "exceeds")

		// Another group's administrator, a plain user, an unknown user.
		for _, c := range []struct {
			name string
			err  func() error
			code fault.Code
		}{
			{"other group create", func() error {
				_, _, err := f.svc.CreateFor(ctx, f.adminB, source(f.adminB), f.userA.UserID, apikey.NewKey{Name: "x", Scopes: []string{"psks:read"}})
				return err
			}, fault.NotFound},
			{"other group list", func() error { _, err := f.svc.ListFor(ctx, f.adminB, f.userA.UserID); return err }, fault.NotFound},
			{"other group revoke", func() error { _, err := f.svc.RevokeFor(ctx, f.adminB, source(f.adminB), f.userA.UserID); return err }, fault.NotFound},
			{"user lists another's", func() error { _, err := f.svc.ListFor(ctx, f.userA2, f.userA.UserID); return err }, fault.Forbidden},
			{"unknown user", func() error { _, err := f.svc.ListFor(ctx, f.adminA, 99999); return err }, fault.NotFound},
		} {
			if err := c.err(); fault.CodeOf(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}

		keys, err := f.svc.ListFor(ctx, f.super, f.userA.UserID)
		if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
			t.Fatalf("ListFor = %v, %v", keys, err)
		}
		if k.ProvisionedBy != f.adminA.UserID || keys[0].ProvisionedBy != f.adminA.UserID {
			t.Fatalf("provisioned by %d, stored %d, want the administrator %d", k.ProvisionedBy, keys[0].ProvisionedBy, f.adminA.UserID)
		}
		n, err := f.svc.RevokeFor(ctx, f.adminA, source(f.adminA), f.userA.UserID)
		if err != nil || n != 1 {
			t.Fatalf("RevokeFor = %d, %v", n, err)
		}
		if _, _, err := f.svc.Authenticate(ctx, secret); err == nil {
			t.Fatal("a revoked key still authenticates")
		}
		if n, err := f.svc.RevokeFor(ctx, f.adminA, source(f.adminA), f.userA.UserID); err != nil || n != 0 {
			t.Fatalf("second RevokeFor = %d, %v, want 0", n, err)
		}
		if got := auditActions(t, db, "apikey:"+k.ID); len(got) != 2 || got[1] != "apikey.revoke" {
			t.Fatalf("audit = %v", got)
		}
	})
}

// A key created through an administrators' API (Administered) records its
// administrator as ProvisionedBy; a plain user may not create one, and a
// key of the user's own key API records nobody.
func TestAdministeredKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		k, _, err := f.svc.Create(ctx, f.adminA, source(f.adminA), apikey.NewKey{Name: "admin-ci", Scopes: []string{"psks:read"}, Administered: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.Read().APIKeyByID(ctx, k.ID); err != nil || got.ProvisionedBy != f.adminA.UserID {
			t.Fatalf("stored key = %+v, %v, want provisioned by %d", got, err, f.adminA.UserID)
		}
		own, _, err := f.svc.Create(ctx, f.userA, source(f.userA), apikey.NewKey{Name: "mine", Scopes: []string{"psks:read"}})
		if err != nil || own.ProvisionedBy != 0 {
			t.Fatalf("own key = %+v, %v, want provisioned by nobody", own, err)
		}
		_, _, err = f.svc.Create(ctx, f.userA, source(f.userA), apikey.NewKey{Name: "x", Scopes: []string{"psks:read"}, Administered: true})
		wantFault(t, err, fault.Forbidden, "administrator")
		if keys, err := f.svc.List(ctx, f.userA); err != nil || len(keys) != 1 {
			t.Fatalf("userA's keys after the refusal = %v, %v, want its own only", keys, err)
		}
	})
}
