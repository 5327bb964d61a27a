package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/psk"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// stagedRows is n rows named prefix-NNNN, each with one MAC derived from
// base and its index.
func stagedRows(group int64, prefix string, base, n int) []psk.StagedRow {
	out := make([]psk.StagedRow, n)
	for i := range n {
		k := base + i
		out[i] = psk.StagedRow{Row: pskRow(group, fmt.Sprintf("%s-%04d", prefix, i)),
			MACs: []string{fmt.Sprintf("02:00:00:%02x:%02x:%02x", k>>16&0xff, k>>8&0xff, k&0xff)}}
	}
	return out
}

// TestStageImport: staged rows (COPY on PostgreSQL, multi-row INSERTs on
// SQLite) get distinct IDs, endpoints bound to them, and stay invisible
// until the import is promoted; a batch that collides with a stored
// psk_id or MAC is refused whole (conflict with its reason) and leaves
// nothing behind.
func TestStageImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "stage").ID
		at := time.Now().UTC()
		insertPSKs(t, db, pskRow(g, "taken"))
		taken, err := db.Read().PSKRowByName(ctx, g, "taken")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertEndpoints(ctx, []*psk.Endpoint{{GroupID: g, MAC: "02:00:00:ff:ff:ff", PSKID: taken.ID, Enabled: true, CreatedAt: at, UpdatedAt: at}})
		}); err != nil {
			t.Fatal(err)
		}

		var id int64
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) { id, err = tx.BeginImport(ctx, g, at); return err }); err != nil {
			t.Fatal(err)
		}
		const n = 3000 // several statements on both engines
		rows := stagedRows(g, "ok", 0, n)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.StageImport(ctx, id, rows, at) }); err != nil {
			t.Fatal(err)
		}
		ids := map[int64]bool{taken.ID: true}
		for _, r := range rows {
			if r.Row.ID == 0 || ids[r.Row.ID] {
				t.Fatalf("row %s has ID %d: not set or not distinct", r.Row.PSKID, r.Row.ID)
			}
			ids[r.Row.ID] = true
		}
		if got := countPSKs(t, db, g); got != 1 {
			t.Fatalf("before promotion %d PSKs visible, want 1", got)
		}

		cases := []struct {
			name   string
			rows   []psk.StagedRow
			reason fault.Reason
		}{
			{"409/psk_id stored", append(stagedRows(g, "bad1", 5000, 10), psk.StagedRow{Row: pskRow(g, "taken")}), psk.ReasonPSKIDExists},
			{"409/psk_id staged", stagedRows(g, "ok", 6000, 10), psk.ReasonPSKIDExists},
			{"409/MAC stored", append(stagedRows(g, "bad2", 7000, 10), psk.StagedRow{Row: pskRow(g, "bad2-x"), MACs: []string{"02:00:00:ff:ff:ff"}}), psk.ReasonEndpointExists},
			{"409/MAC staged", stagedRows(g, "bad3", 0, 10), psk.ReasonEndpointExists},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := db.InTx(ctx, func(tx *store.Tx) error { return tx.StageImport(ctx, id, tc.rows, at) })
				fe := fault.As(err)
				if fe == nil || fe.Code != fault.Conflict || fe.Reason != tc.reason {
					t.Fatalf("staging: %v, want conflict %s", err, tc.reason)
				}
				var psks, eps int
				if err := db.SQL().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM psks WHERE group_id = $1),
					(SELECT count(*) FROM endpoints WHERE group_id = $1)`, g).Scan(&psks, &eps); err != nil {
					t.Fatal(err)
				}
				if psks != 1+n || eps != 1+n {
					t.Fatalf("after a refused batch %d PSKs and %d endpoints stored, want %d of each", psks, eps, 1+n)
				}
			})
		}

		var done *psk.Promoted
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) { done, err = tx.PromoteImport(ctx, id, at); return err }); err != nil {
			t.Fatal(err)
		}
		if done.PSKs != n || done.Endpoints != n {
			t.Fatalf("promoted %+v, want %d of each", done, n)
		}
		if got := countPSKs(t, db, g); got != 1+n {
			t.Fatalf("after promotion %d PSKs visible, want %d", got, 1+n)
		}
		e, err := db.Read().EndpointByMAC(ctx, g, rows[n-1].MACs[0])
		if err != nil {
			t.Fatal(err)
		}
		if e.PSKID != rows[n-1].Row.ID {
			t.Fatalf("endpoint bound to PSK %d, want %d", e.PSKID, rows[n-1].Row.ID)
		}
	})
}

func countPSKs(tb testing.TB, db *store.DB, group int64) int {
	tb.Helper()
	n, err := db.Read().CountPSKs(context.Background(), psk.Filter{GroupID: group})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestHoldImport: on PostgreSQL rows inserted by InsertImported in a held
// transaction are invisible until end(nil) commits them (with the count
// CountImported adds), end(err) rolls them back and returns err, and a
// stored psk_id or MAC is a conflict with its reason; SQLite holds no
// transaction open.
func TestHoldImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if !db.Holds() {
			if _, _, err := db.Hold(ctx); err == nil {
				t.Fatal("SQLite held a write transaction open")
			}
			return
		}
		g := mustGroup(t, db, "hold").ID
		const n = 3000
		write := func(rows []psk.StagedRow, count bool) (func(error) error, error) {
			tx, end, err := db.Hold(ctx)
			if err != nil {
				t.Fatal(err)
			}
			eps, err := tx.InsertImported(ctx, rows)
			if err == nil && eps != len(rows) {
				t.Fatalf("%d endpoints inserted, want %d", eps, len(rows))
			}
			if err == nil && count {
				err = tx.CountImported(ctx, g, len(rows))
			}
			return end, err
		}

		end, err := write(stagedRows(g, "gone", 0, n), true)
		if err != nil {
			t.Fatal(err)
		}
		if got := countPSKs(t, db, g); got != 0 {
			t.Fatalf("%d PSKs visible before the commit", got)
		}
		stop := errors.New("stopped")
		if err := end(stop); !errors.Is(err, stop) {
			t.Fatalf("end(err) = %v", err)
		}
		var raw int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM psks WHERE group_id = $1`, g).Scan(&raw); err != nil || raw != 0 {
			t.Fatalf("after a rollback %d rows stored (%v)", raw, err)
		}

		rows := stagedRows(g, "kept", 0, n)
		if end, err = write(rows, true); err != nil {
			t.Fatal(err)
		}
		if err := end(nil); err != nil {
			t.Fatal(err)
		}
		if got := countPSKs(t, db, g); got != n {
			t.Fatalf("after the commit %d PSKs, want %d", got, n)
		}
		e, err := db.Read().EndpointByMAC(ctx, g, rows[n-1].MACs[0])
		if err != nil || e.PSKID != rows[n-1].Row.ID {
			t.Fatalf("endpoint = %+v, %v; want bound to %d", e, err, rows[n-1].Row.ID)
		}
		var pending int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM psks WHERE pending IS NOT NULL`).Scan(&pending); err != nil || pending != 0 {
			t.Fatalf("%d rows pending (%v)", pending, err)
		}

		for _, tc := range []struct {
			name   string
			rows   []psk.StagedRow
			reason fault.Reason
		}{
			{"409/psk_id stored", stagedRows(g, "kept", 9000, 1), psk.ReasonPSKIDExists},
			{"409/MAC stored", stagedRows(g, "other", 0, 1), psk.ReasonEndpointExists},
		} {
			t.Run(tc.name, func(t *testing.T) {
				end, err := write(tc.rows, false)
				if fe := fault.As(err); fe == nil || fe.Code != fault.Conflict || fe.Reason != tc.reason {
					t.Fatalf("insert: %v, want conflict %s", err, tc.reason)
				}
				_ = end(err)
				if got := countPSKs(t, db, g); got != n {
					t.Fatalf("%d PSKs after a refused insert, want %d", got, n)
				}
			})
		}
	})
}

// TestScanKeysAndBindings: the directory's narrow scans return each
// visible PSK's and endpoint's authenticating columns (VLAN 0 for none,
// zero expiry for never) and skip the rows of an import not promoted yet.
func TestScanKeysAndBindings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "keys").ID
		at := time.Now().UTC()
		plain, tagged := pskRow(g, "plain"), pskRow(g, "tagged")
		vlan, exp := 42, at.Add(time.Hour).Truncate(time.Second)
		tagged.VLANID, tagged.Expires, tagged.Enabled = &vlan, &exp, false
		insertPSKs(t, db, plain, tagged)
		override := 9
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertEndpoints(ctx, []*psk.Endpoint{
				{GroupID: g, MAC: "02:00:00:00:00:01", PSKID: plain.ID, Enabled: true, CreatedAt: at, UpdatedAt: at},
				{GroupID: g, MAC: "02:00:00:00:00:02", PSKID: tagged.ID, VLANID: &override, CreatedAt: at, UpdatedAt: at},
			})
		}); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
			if id, err = tx.BeginImport(ctx, g, at); err != nil {
				return err
			}
			return tx.StageImport(ctx, id, stagedRows(g, "pending", 0x100, 5), at)
		}); err != nil {
			t.Fatal(err)
		}

		keys := map[int64]psk.SealedKey{}
		if err := db.Read().ScanKeys(ctx, func(k *psk.SealedKey) error {
			if k.GroupID == g {
				c := *k
				c.Sealed, c.SealID = bytes.Clone(k.Sealed), bytes.Clone(k.SealID)
				keys[k.ID] = c
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := map[int64]psk.SealedKey{
			plain.ID:  {ID: plain.ID, GroupID: g, Sealed: []byte("sealed-plain"), SealID: []byte("seal-plain"), Enabled: true},
			tagged.ID: {ID: tagged.ID, GroupID: g, Sealed: []byte("sealed-tagged"), SealID: []byte("seal-tagged"), VLANID: 42, Expires: exp},
		}
		if len(keys) != len(want) {
			t.Fatalf("scanned %d keys, want %d (the pending import's rows hidden): %+v", len(keys), len(want), keys)
		}
		for id, w := range want {
			k := keys[id]
			if !bytes.Equal(k.Sealed, w.Sealed) || !bytes.Equal(k.SealID, w.SealID) || k.VLANID != w.VLANID ||
				k.Enabled != w.Enabled || !k.Expires.Equal(w.Expires) || k.GroupID != g {
				t.Fatalf("key %d = %+v, want %+v", id, k, w)
			}
		}

		binds := map[string]psk.Binding{}
		if err := db.Read().ScanBindings(ctx, func(b *psk.Binding) error {
			if b.GroupID == g {
				c := *b
				c.MAC = nil
				binds[string(b.MAC)] = c
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(binds) != 2 {
			t.Fatalf("scanned %d bindings, want 2 (the pending import's hidden): %+v", len(binds), binds)
		}
		if b := binds["02:00:00:00:00:01"]; b.PSKID != plain.ID || b.VLANID != 0 || !b.Enabled || b.ID == 0 {
			t.Fatalf("binding of :01 = %+v", b)
		}
		if b := binds["02:00:00:00:00:02"]; b.PSKID != tagged.ID || b.VLANID != 9 || b.Enabled {
			t.Fatalf("binding of :02 = %+v", b)
		}
	})
}
