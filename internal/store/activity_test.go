package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"netkeep/internal/activity"
	"netkeep/internal/audit"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// The feed reads the audit log: only the asked actions, of the asked group
// (or all), newest first, paged, and counted up to MaxCount.
func TestActivityFeed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustGroup(t, db, "feed-a"), mustGroup(t, db, "feed-b")
		src := audit.Source{Actor: "test", IP: "127.0.0.1"}
		write := []struct {
			group  int64
			action string
		}{
			{a.ID, "psk.create"}, {a.ID, "auth.login"}, {b.ID, "psk.create"}, {a.ID, "node.create"}, {a.ID, "psk.create"},
		}
		for i, w := range write {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return audit.Record(ctx, tx, src, w.group, w.action, fmt.Sprintf("obj:%d", i), nil)
			}); err != nil {
				t.Fatal(err)
			}
		}
		targets := func(es []audit.Entry) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.Target)
			}
			return out
		}
		gid := a.ID
		tests := []struct {
			name      string
			q         activity.Query
			want      []string
			wantTotal int
		}{
			{"group a, two actions", activity.Query{GroupID: &gid, Actions: []string{"psk.create", "node.create"}, Limit: 10, MaxCount: 100},
				[]string{"obj:4", "obj:3", "obj:0"}, 3},
			{"every group", activity.Query{Actions: []string{"psk.create"}, Limit: 10, MaxCount: 100},
				[]string{"obj:4", "obj:2", "obj:0"}, 3},
			{"paged", activity.Query{GroupID: &gid, Actions: []string{"psk.create", "node.create"}, Limit: 1, Offset: 1, MaxCount: 100},
				[]string{"obj:3"}, 3},
			{"count capped", activity.Query{Actions: []string{"psk.create"}, Limit: 10, MaxCount: 2},
				[]string{"obj:4", "obj:2", "obj:0"}, 2},
			{"no actions", activity.Query{GroupID: &gid, Limit: 10, MaxCount: 100}, nil, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tx := db.Read()
				got, err := tx.ListActivity(ctx, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(targets(got), tt.want) {
					t.Errorf("ListActivity = %v, want %v", targets(got), tt.want)
				}
				n, err := tx.CountActivity(ctx, tt.q)
				if err != nil || n != tt.wantTotal {
					t.Errorf("CountActivity = %d, %v; want %d", n, err, tt.wantTotal)
				}
			})
		}
	})
}
