package mesh_test

import (
	"context"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestListNodePage: pending nodes first, then by ID, paged, with the
// network's counts; another group's network is not found.
func TestListNodePage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		on := true
		e.network(t, e.adminA, "paged", mesh.NetworkFields{RequireApproval: &on})
		key := e.key(t, "paged", 10)
		var ids []int64 // in join order: 0, 1 approved, 2, 3 pending
		for i := range 4 {
			n, _, err := e.svc.Join(ctx, nil, src, "paged", mesh.JoinFields{AccessKey: key, MAC: mac(i), PublicKey: pubkey(t)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, n.ID)
			if i < 2 {
				if _, err := e.svc.Approve(ctx, e.adminA, src, "paged", n.MAC); err != nil {
					t.Fatal(err)
				}
			}
		}
		tests := []struct {
			name          string
			offset, limit int
			want          []int64
		}{
			{"first page", 0, 3, []int64{ids[2], ids[3], ids[0]}},
			{"second page", 3, 3, []int64{ids[1]}},
			{"past the end", 9, 3, nil},
			{"negative offset", -1, 1, []int64{ids[2]}},
		}
		for _, tc := range tests {
			pg, err := e.svc.ListNodePage(ctx, e.adminA, "paged", tc.offset, tc.limit)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if pg.Total != 4 || pg.Pending != 2 || pg.Network.NetID != "paged" || len(pg.Nodes) != len(tc.want) {
				t.Fatalf("%s: total %d pending %d nodes %d", tc.name, pg.Total, pg.Pending, len(pg.Nodes))
			}
			for i, n := range pg.Nodes {
				if n.ID != tc.want[i] {
					t.Errorf("%s: node %d is %d, want %d", tc.name, i, n.ID, tc.want[i])
				}
			}
		}
		if _, err := e.svc.ListNodePage(ctx, e.adminB, "paged", 0, 10); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another group: %v", err)
		}
		if _, err := e.svc.ListNodePage(ctx, e.adminA, "nope", 0, 10); !fault.Is(err, fault.NotFound) {
			t.Fatalf("no such network: %v", err)
		}
	})
}
