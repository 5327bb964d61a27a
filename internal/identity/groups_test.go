package identity_test

import (
	"context"
	"testing"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

// The default group exists before anyone runs setup (the migration creates
// it), setup puts the first administrator there, and it can be
// neither renamed nor deleted.
func TestDefaultGroup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		def, err := f.svc.DefaultGroupID(ctx)
		if err != nil || def == 0 {
			t.Fatalf("default group before setup: %d, %v", def, err)
		}
		if u := f.admin(t); u.GroupID != def || u.GroupName != identity.DefaultGroupName {
			t.Fatalf("setup placed the admin in group %d %q, want %d", u.GroupID, u.GroupName, def)
		}
		// A user created by the master key without a group lands there too.
		u, err := f.svc.CreateUser(ctx, master, src, identity.NewUser{Username: "nogroup", Email: "nogroup@x.test", Password: "correct horse"})
		if err != nil || u.GroupID != def {
			t.Fatalf("user without a group: %+v, %v", u, err)
		}
		cases := []struct {
			name string
			op   func() error
		}{
			{"409/rename", func() error { _, err := f.svc.RenameGroup(ctx, master, src, def, "other"); return err }},
			{"409/delete", func() error { return f.svc.DeleteGroup(ctx, master, src, def) }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := c.op()
				if fe := fault.As(err); fe == nil || fe.Code != fault.Conflict || fe.Reason != identity.ReasonDefaultGroup {
					t.Fatalf("err = %v, want conflict default_group", err)
				}
			})
		}
		g, err := f.svc.GetGroup(ctx, master, def)
		if err != nil || g.Name != identity.DefaultGroupName {
			t.Fatalf("default group after the refusals: %+v, %v", g, err)
		}
	})
}

// Names that would display as something they are not are refused in every
// name-like field, on create and on update, and nothing is stored.
func TestNamesRefuseControlAndBidi(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.admin(t)
		bad := map[string]string{"nul": "a\x00b", "bidi override": "admin\u202egnp", "isolate": "x\u2066y", "invalid utf-8": "a\xffb", "newline": "a\nb"}
		for what, v := range bad {
			cases := []struct {
				name, field string
				op          func() error
			}{
				{"username", "username", func() error {
					_, err := f.svc.CreateUser(ctx, master, src, identity.NewUser{Username: v, Email: "v@x.test", Password: "correct horse"})
					return err
				}},
				{"email", "email", func() error {
					_, err := f.svc.CreateUser(ctx, master, src, identity.NewUser{Username: "u1", Email: "a" + v + "@x.test", Password: "correct horse"})
					return err
				}},
				{"full name", "full_name", func() error {
					_, err := f.svc.CreateUser(ctx, master, src, identity.NewUser{Username: "u2", Email: "u2@x.test", FullName: v, Password: "correct horse"})
					return err
				}},
				{"full name update", "full_name", func() error {
					_, err := f.svc.UpdateUser(ctx, master, src, 1, identity.UserPatch{FullName: &v})
					return err
				}},
				{"group", "name", func() error { _, err := f.svc.CreateGroup(ctx, master, src, v); return err }},
				{"setup username", "username", func() error { _, err := f.svc.Setup(ctx, src, v, "correct horse"); return err }},
			}
			for _, c := range cases {
				t.Run("400/"+c.name+"/"+what, func(t *testing.T) {
					err := c.op()
					fe := fault.As(err)
					if fe == nil || fe.Code != fault.Invalid || fe.Details["field"] != c.field {
						t.Fatalf("err = %v, want invalid %s", err, c.field)
					}
				})
			}
		}
		users, err := f.svc.ListUsers(ctx, master)
		if err != nil || len(users) != 1 || users[0].FullName != "" {
			t.Fatalf("users after refusals: %d, %v", len(users), err)
		}
		groups, err := f.svc.ListGroups(ctx, master)
		if err != nil || len(groups) != 1 {
			t.Fatalf("groups after refusals: %v, %v", groups, err)
		}
	})
}
