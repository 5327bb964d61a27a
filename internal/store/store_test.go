package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v1, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if v1 != v2 || v1 < 1 {
			t.Fatalf("versions %d then %d", v1, v2)
		}
		ok, err := db.SchemaCurrent(ctx)
		if err != nil || !ok {
			t.Fatalf("SchemaCurrent = %v, %v", ok, err)
		}
	})
}

func mustGroup(tb testing.TB, db *store.DB, name string) *identity.Group {
	tb.Helper()
	g := &identity.Group{Name: name}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateGroup(context.Background(), g) }); err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "Acme")
		u := &identity.User{Username: "Alice", Email: "Alice@Example.com", Role: identity.GroupAdmin, GroupID: g.ID, PasswordHash: "x", IsActive: true}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"alice", "ALICE", "alice@example.com"} {
			got, err := db.Read().UserByLogin(ctx, login)
			if err != nil {
				t.Fatalf("UserByLogin(%q): %v", login, err)
			}
			if got.ID != u.ID || got.GroupName != "Acme" || got.Role != identity.GroupAdmin || !got.IsActive {
				t.Fatalf("got %+v", got)
			}
			if time.Since(got.CreatedAt) > time.Minute || got.CreatedAt.Location() != time.UTC {
				t.Fatalf("created_at %v", got.CreatedAt)
			}
		}
		dup := &identity.User{Username: "alice", Role: identity.RoleUser, GroupID: g.ID, PasswordHash: "y"}
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, dup) })
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate username: %v", err)
		}
		_, err = db.Read().UserByID(ctx, 9999)
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing user: %v", err)
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		u.LastLogin = &now
		u.FullName = "Alice A."
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateUser(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Read().UserByID(ctx, u.ID)
		if got.LastLogin == nil || !got.LastLogin.Equal(now) || got.FullName != "Alice A." {
			t.Fatalf("after update: %+v (want last_login %v)", got, now)
		}
		if n, _ := db.Read().CountUsers(ctx); n != 1 {
			t.Fatalf("count %d", n)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteGroup(ctx, g.ID) })
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("deleting group with users: %v", err)
		}
	})
}

func TestTxRollback(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateGroup(ctx, &identity.Group{Name: "ghost"}); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Source{Actor: "t"}, 0, "group.create", "ghost", nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if _, err := db.Read().GroupByName(ctx, "ghost"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("group survived rollback: %v", err)
		}
		logs, err := db.Read().ListAudit(ctx, audit.Query{Limit: 10})
		if err != nil || len(logs) != 0 {
			t.Fatalf("audit survived rollback: %v %v", logs, err)
		}
	})
}

func TestAuditScopeAndFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustGroup(t, db, "a"), mustGroup(t, db, "b")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i, e := range []struct {
				g      int64
				action string
			}{{a.ID, "user.create"}, {a.ID, "user.delete"}, {b.ID, "user.create"}, {0, "server.start"}} {
				if err := audit.Record(ctx, tx, audit.Source{Actor: "admin", IP: "127.0.0.1"}, e.g, e.action, "t", map[string]int{"i": i}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			q    audit.Query
			want int
		}{
			{"all groups", audit.Query{Limit: 100}, 4},
			{"group a", audit.Query{GroupID: &a.ID, Limit: 100}, 2},
			{"group b", audit.Query{GroupID: &b.ID, Limit: 100}, 1},
			{"action filter", audit.Query{Action: "user.create", Limit: 100}, 2},
			{"actor filter none", audit.Query{Actor: "nobody", Limit: 100}, 0},
			{"limit", audit.Query{Limit: 1}, 1},
			{"offset", audit.Query{Limit: 100, Offset: 3}, 1},
		}
		for _, c := range cases {
			got, err := db.Read().ListAudit(ctx, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if len(got) != c.want {
				t.Errorf("%s: %d entries, want %d", c.name, len(got), c.want)
			}
			// The count is the filters' whole, never the page's.
			total := c.want
			if c.q.Limit < 100 || c.q.Offset > 0 {
				total = 4
			}
			if n, err := db.Read().CountAudit(ctx, c.q); err != nil || n != total {
				t.Errorf("%s: count %d (%v), want %d", c.name, n, err, total)
			}
		}
		got, _ := db.Read().ListAudit(ctx, audit.Query{GroupID: &a.ID, Limit: 1})
		if got[0].Action != "user.delete" || got[0].Details != `{"i":1}` || got[0].IP != "127.0.0.1" {
			t.Fatalf("newest first with details: %+v", got[0])
		}
	})
}
