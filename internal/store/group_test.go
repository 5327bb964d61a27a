package store_test

import (
	"context"
	"strings"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// deleteGroup runs DeleteGroup in its own transaction.
func deleteGroup(db *store.DB, id int64) error {
	ctx := context.Background()
	return db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteGroup(ctx, id) })
}

// wantConflict checks err is a conflict whose message names every want.
func wantConflict(tb testing.TB, err error, want ...string) {
	tb.Helper()
	if !fault.Is(err, fault.Conflict) {
		tb.Fatalf("err = %v, want conflict", err)
	}
	msg := fault.As(err).Message
	for _, w := range want {
		if !strings.Contains(msg, w) {
			tb.Fatalf("message %q does not name %q", msg, w)
		}
	}
}

func TestDeleteGroupThatOwnsObjects(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "Owner")
		row := pskRow(g.ID, "lobby")
		insertPSKs(t, db, row)
		net := meshNetwork(t, db, g.ID, "owned", "10.77.0.0/24")
		nasClient := radiusClient(t, db, g.ID, "192.0.2.10")
		gw, _ := vpnGateway(t, db, g.ID, "gw-owned", "owned")

		wantConflict(t, deleteGroup(db, g.ID), "the group still has PSKs, mesh networks, RADIUS clients and VPN gateways;")
		if _, err := db.Read().GroupByID(ctx, g.ID); err != nil {
			t.Fatalf("group gone after a refused delete: %v", err)
		}
		if _, err := db.Read().RadiusClientByID(ctx, nasClient.ID); err != nil {
			t.Fatalf("RADIUS client gone after a refused delete: %v", err)
		}

		mustDo(t, db, func(tx *store.Tx) error { return tx.DeletePSK(ctx, row.ID) })
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteRadiusClient(ctx, nasClient.ID) })
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteGateway(ctx, gw.ID) })
		wantConflict(t, deleteGroup(db, g.ID), "the group still has mesh networks;")
		mustDo(t, db, func(tx *store.Tx) error { return tx.DeleteNetwork(ctx, net.ID) })

		if err := deleteGroup(db, g.ID); err != nil {
			t.Fatalf("deleting the emptied group: %v", err)
		}
		if _, err := db.Read().GroupByID(ctx, g.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("group after delete: %v", err)
		}
		if err := deleteGroup(db, g.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("deleting again: %v", err)
		}
	})
}

// TestDeleteGroupForeignKey covers a table DeleteGroup does not know: its
// foreign key refuses the delete, and that is a conflict, not a driver error.
func TestDeleteGroupForeignKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "Referenced")
		if _, err := db.SQL().ExecContext(ctx,
			`CREATE TABLE group_refs (group_id BIGINT NOT NULL REFERENCES groups (id))`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO group_refs (group_id) VALUES ($1)`, g.ID); err != nil {
			t.Fatal(err)
		}
		wantConflict(t, deleteGroup(db, g.ID), "still owns objects")
		if _, err := db.Read().GroupByID(ctx, g.ID); err != nil {
			t.Fatalf("group gone after a refused delete: %v", err)
		}
	})
}
