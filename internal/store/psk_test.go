package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var _ psk.Tx = (*store.Tx)(nil)

// pskRow is a stored PSK with a fake sealed passphrase.
func pskRow(group int64, name string) *psk.Row {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &psk.Row{PSK: psk.PSK{GroupID: group, PSKID: name, Enabled: true, CreatedAt: now, UpdatedAt: now},
		Sealed: []byte("sealed-" + name), SealID: "seal-" + name}
}

func insertPSKs(tb testing.TB, db *store.DB, rows ...*psk.Row) {
	tb.Helper()
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.InsertPSKs(context.Background(), rows) }); err != nil {
		tb.Fatal(err)
	}
}

func TestPSKCountsAndFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustGroup(t, db, "a").ID, mustGroup(t, db, "b").ID
		var rows []*psk.Row
		for i := range 2600 { // several INSERT statements
			rows = append(rows, pskRow(a, fmt.Sprintf("a-%04d", i)))
		}
		vlan := 7
		past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		special := pskRow(b, "50%_off")
		special.Description = "Lobby Guest"
		special.VLANID = &vlan
		special.Expires = &past
		disabled := pskRow(b, "b-off")
		disabled.Enabled = false
		rows = append(rows, special, disabled, pskRow(b, "b-plain"))
		insertPSKs(t, db, rows...)
		for _, r := range rows {
			if r.ID == 0 {
				t.Fatalf("%s got no id", r.PSKID)
			}
		}
		// A duplicate name in the group is a conflict and changes no count.
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertPSKs(ctx, []*psk.Row{pskRow(a, "a-0001")}) })
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate insert: %v", err)
		}
		// A missing group is invalid.
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertPSKs(ctx, []*psk.Row{pskRow(999999, "x")}) })
		if !fault.Is(err, fault.Invalid) {
			t.Fatalf("insert into a missing group: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeletePSK(ctx, rows[0].ID) }); err != nil {
			t.Fatal(err)
		}

		yes, no := true, false
		now := time.Now()
		tests := []struct {
			name string
			f    psk.Filter
			want int
		}{
			{"group a, counter", psk.Filter{GroupID: a}, 2599},
			{"group b, counter", psk.Filter{GroupID: b}, 3},
			{"every group, counter", psk.Filter{}, 2602},
			{"enabled", psk.Filter{GroupID: b, Enabled: &yes}, 2},
			{"disabled", psk.Filter{GroupID: b, Enabled: &no}, 1},
			{"vlan", psk.Filter{VLANID: &vlan}, 1},
			{"search is a literal substring", psk.Filter{Search: "%_"}, 1},
			{"search ignores case", psk.Filter{Search: "lobby"}, 1},
			{"search without match", psk.Filter{GroupID: a, Search: "zzz"}, 0},
			{"prefix of names", psk.Filter{GroupID: a, Prefix: "a-01"}, 100},
			{"prefix of a description, any case", psk.Filter{GroupID: b, Prefix: "lobby"}, 1},
			{"prefix is no substring", psk.Filter{GroupID: b, Prefix: "guest"}, 0},
			{"prefix is literal", psk.Filter{Prefix: "50%"}, 1},
			{"prefix in another group", psk.Filter{GroupID: a, Prefix: "lobby"}, 0},
			{"expired", psk.Filter{Expired: &yes, Now: now}, 1},
			{"unexpired", psk.Filter{GroupID: b, Expired: &no, Now: now}, 2},
		}
		tx := db.Read()
		for _, tc := range tests {
			n, err := tx.CountPSKs(ctx, tc.f)
			if err != nil || n != tc.want {
				t.Errorf("%s: count = %d, %v; want %d", tc.name, n, err, tc.want)
			}
			tc.f.Limit = 1000
			got, err := tx.ListPSKs(ctx, tc.f)
			if err != nil || len(got) != min(tc.want, 1000) {
				t.Errorf("%s: list = %d, %v", tc.name, len(got), err)
			}
		}
		for _, c := range []struct {
			upTo, want int
		}{{10, 10}, {2598, 2598}, {5000, 2599}} {
			if n, err := tx.CountPSKs(ctx, psk.Filter{GroupID: a, Enabled: &yes, CountUpTo: c.upTo}); err != nil || n != c.want {
				t.Errorf("count up to %d: %d, %v; want %d", c.upTo, n, err, c.want)
			}
		}
		page, err := tx.ListPSKs(ctx, psk.Filter{GroupID: a, Limit: 3, Offset: 10})
		if err != nil || len(page) != 3 || page[0].PSKID != "a-0011" || page[0].ID >= page[1].ID {
			t.Fatalf("page = %+v, %v", page, err)
		}
		after, err := tx.ListPSKs(ctx, psk.Filter{GroupID: a, Prefix: "a-01", Limit: 3, AfterID: page[0].ID})
		if err != nil || len(after) != 3 || after[0].PSKID != "a-0100" {
			t.Fatalf("after id %d: %+v, %v", page[0].ID, after, err)
		}
		if after, err = tx.ListPSKs(ctx, psk.Filter{GroupID: a, Limit: 3, AfterID: after[2].ID}); err != nil || len(after) != 3 || after[0].PSKID != "a-0103" {
			t.Fatalf("next page: %+v, %v", after, err)
		}
		taken, err := tx.TakenPSKIDs(ctx, a, []string{"a-0002", "a-0000", "nope", "b-off"})
		if err != nil || len(taken) != 1 || !taken["a-0002"] {
			t.Fatalf("taken = %v, %v", taken, err)
		}
	})
}

// TestListUsesGroupIndex checks SQLite's plan for the listing's shape: the
// (group_id, id) index, in order, no sort.
func TestListUsesGroupIndex(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.SQLite)
	rows, err := db.SQL().Query(`EXPLAIN QUERY PLAN SELECT id FROM psks WHERE group_id = $1 ORDER BY id LIMIT $2 OFFSET $3`, 1, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "; ")
	if !strings.Contains(text, "psks_group") || strings.Contains(text, "TEMP B-TREE") {
		t.Fatalf("plan: %s", text)
	}
}

func TestEndpointsStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "g").ID
		p := pskRow(g, "p")
		insertPSKs(t, db, p)
		now := time.Now().UTC().Truncate(time.Microsecond)
		var es []*psk.Endpoint
		for i := range 5 {
			es = append(es, &psk.Endpoint{GroupID: g, MAC: fmt.Sprintf("02:00:00:00:00:%02x", i), PSKID: p.ID, Enabled: true, CreatedAt: now, UpdatedAt: now})
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertEndpoints(ctx, es) }); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertEndpoints(ctx, []*psk.Endpoint{{GroupID: g, MAC: es[0].MAC, PSKID: p.ID, CreatedAt: now, UpdatedAt: now}})
		})
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate MAC: %v", err)
		}
		tx := db.Read()
		if n, err := tx.CountEndpoints(ctx, psk.EndpointFilter{GroupID: g, Search: "00:03"}); err != nil || n != 1 {
			t.Fatalf("search count = %d, %v", n, err)
		}
		if e, err := tx.EndpointByMAC(ctx, g, es[2].MAC); err != nil || e.ID != es[2].ID {
			t.Fatalf("by MAC = %+v, %v", e, err)
		}
		if _, err := tx.EndpointByID(ctx, 999999); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing endpoint: %v", err)
		}
		t1 := now.Add(time.Minute)
		seen := map[int64]time.Time{}
		for _, e := range es {
			seen[e.ID] = t1
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchEndpoints(ctx, seen) }); err != nil {
			t.Fatal(err)
		}
		seen[es[0].ID] = t1.Add(-time.Hour) // never lowers
		seen[es[1].ID] = t1.Add(time.Hour)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchEndpoints(ctx, seen) }); err != nil {
			t.Fatal(err)
		}
		for i, want := range map[int]time.Time{0: t1, 1: t1.Add(time.Hour), 4: t1} {
			e, err := tx.EndpointByID(ctx, es[i].ID)
			if err != nil || e.LastSeen == nil || !e.LastSeen.Equal(want) {
				t.Fatalf("endpoint %d last seen %v (%v), want %v", i, e.LastSeen, err, want)
			}
		}
		var deleted []*psk.Endpoint
		err = db.InTx(ctx, func(tx *store.Tx) (err error) {
			deleted, err = tx.DeleteEndpointsOfPSK(ctx, p.ID)
			return err
		})
		if err != nil || len(deleted) != 5 {
			t.Fatalf("deleted %d, %v", len(deleted), err)
		}
	})
}
