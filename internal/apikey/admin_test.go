package apikey_test

import (
	"context"
	"testing"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestAdminViews: the administration console's key views admit
// administrators (and their keys), refuse a USER even for its own key, and
// keep another group's keys not found.
func TestAdminViews(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		kA, _ := f.create(t, f.adminA, apikey.NewKey{})
		own, _ := f.create(t, f.userA, apikey.NewKey{})
		_, adminSecret := f.create(t, f.adminA, apikey.NewKey{Scopes: []string{"apikeys:manage"}})
		adminKey := mustAuth(t, f.svc, adminSecret)
		_, userSecret := f.create(t, f.userA, apikey.NewKey{Scopes: []string{"apikeys:manage"}})
		userKey := mustAuth(t, f.svc, userSecret)

		tests := []struct {
			name string
			p    *authz.Principal
			id   string
			code fault.Code // "" for allowed
		}{
			{"401/nobody", nil, kA.ID, fault.Unauthorized},
			{"403/user, own key", f.userA, own.ID, fault.Forbidden},
			{"403/user's key", userKey, own.ID, fault.Forbidden},
			{"404/other group's admin", f.adminB, kA.ID, fault.NotFound},
			{"200/group admin", f.adminA, kA.ID, ""},
			{"200/group admin's key", adminKey, kA.ID, ""},
			{"200/super admin", f.super, kA.ID, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				keys, err := f.svc.ListAsAdmin(ctx, tt.p)
				if tt.code == fault.NotFound { // listing shows the admin's own group only
					if err != nil || len(keys) != 0 {
						t.Fatalf("list: %d keys, %v; want none of the other group's", len(keys), err)
					}
				} else if !codeIs(err, tt.code) {
					t.Fatalf("list: %v, want %q", err, tt.code)
				}
				if _, err := f.svc.GetAsAdmin(ctx, tt.p, tt.id); !codeIs(err, tt.code) {
					t.Fatalf("get: %v, want %q", err, tt.code)
				}
			})
		}

		// Refused revocations change nothing; an administrator's revokes.
		for _, p := range []*authz.Principal{f.userA, userKey, f.adminB} {
			if _, err := f.svc.RevokeAsAdmin(ctx, p, source(f.userA), own.ID); err == nil {
				t.Fatalf("%s revoked through the admin view", p.Actor())
			}
		}
		if k, err := f.svc.Get(ctx, f.adminA, own.ID); err != nil || k.RevokedAt != nil {
			t.Fatalf("after refused revocations: %+v %v", k, err)
		}
		k, err := f.svc.RevokeAsAdmin(ctx, f.adminA, source(f.adminA), own.ID)
		if err != nil || k.RevokedAt == nil {
			t.Fatalf("administrator's revocation: %+v %v", k, err)
		}
	})
}

func codeIs(err error, code fault.Code) bool {
	if code == "" {
		return err == nil
	}
	return fault.Is(err, code)
}
