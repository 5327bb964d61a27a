package store_test

import (
	"context"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/radius"
	"netkeep/internal/radius/nas"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var (
	_ nas.Tx       = (*store.Tx)(nil)
	_ radius.PMKTx = (*store.Tx)(nil)
)

func radiusClient(t *testing.T, db *store.DB, group int64, addr string) *nas.Client {
	t.Helper()
	canon, p, err := nas.ParseAddress(addr)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := &nas.Client{GroupID: group, Name: "ap " + addr, Address: canon, Prefix: p, SealedSecret: []byte("sealed"),
		Vendor: nas.Cisco, RequireMessageAuthenticator: true, SSIDs: []string{"Guest", "with space"}, CreatedAt: now, UpdatedAt: now}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateRadiusClient(context.Background(), c) }); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRadiusClientsStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "radius").ID
		c := radiusClient(t, db, g, "10.0.0.0/8")
		got, err := db.Read().RadiusClientByID(ctx, c.ID)
		if err != nil || got.Address != "10.0.0.0/8" || got.Prefix.Bits() != 8 || len(got.SSIDs) != 2 || got.SSIDs[1] != "with space" ||
			string(got.SealedSecret) != "sealed" || !got.CreatedAt.Equal(c.CreatedAt) {
			t.Fatalf("read back %+v, %v", got, err)
		}
		dup := *c
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateRadiusClient(ctx, &dup) })
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate address: %v", err)
		}
		bad := *c
		bad.GroupID, bad.Address = 99999, "10.9.9.9"
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateRadiusClient(ctx, &bad) }); !fault.Is(err, fault.Invalid) {
			t.Fatalf("unknown group: %v", err)
		}
		if _, err := db.Read().RadiusClientByID(ctx, 424242); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing client: %v", err)
		}
		if got.MACPassword != nas.MACPasswordMAC || len(got.SealedMACPassword) != 0 {
			t.Fatalf("MAC password of a new client: %q %q, want mac and none", got.MACPassword, got.SealedMACPassword)
		}
		got.MACPassword, got.SealedMACPassword = nas.MACPasswordFixed, []byte("sealed-fixed")
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateRadiusClient(ctx, got) }); err != nil {
			t.Fatal(err)
		}
		if back, err := db.Read().RadiusClientByID(ctx, c.ID); err != nil || back.MACPassword != nas.MACPasswordFixed ||
			string(back.SealedMACPassword) != "sealed-fixed" || string(back.SealedSecret) != "sealed" {
			t.Fatalf("after setting a fixed MAC password: %+v, %v", back, err)
		}

		// Sessions: upsert keeps started_at, stop and reset delete, a
		// deleted client's sessions are skipped.
		now := time.Now().UTC().Truncate(time.Second)
		s := nas.Session{GroupID: g, ClientID: c.ID, SessionID: "s1", MAC: "aa:bb:cc:dd:ee:ff", StartedAt: now.Add(-time.Hour), UpdatedAt: now, InputOctets: 5 << 32}
		apply := func(b nas.SessionBatch) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.ApplyRadiusSessions(ctx, b) }); err != nil {
				t.Fatal(err)
			}
		}
		s2 := s
		s2.SessionID = "s2"
		apply(nas.SessionBatch{Upserts: []nas.Session{s, s2, {GroupID: g, ClientID: 424242, SessionID: "orphan", StartedAt: now, UpdatedAt: now}}})
		s.StartedAt, s.UpdatedAt, s.InputOctets = now, now.Add(time.Minute), 7
		apply(nas.SessionBatch{Upserts: []nas.Session{s}})
		list, total, err := db.Read().ListRadiusSessions(ctx, nas.SessionFilter{GroupID: g, Limit: 10}, now.Add(-time.Hour))
		if err != nil || total != 2 || list[0].SessionID != "s1" || !list[0].StartedAt.Equal(now.Add(-time.Hour)) || list[0].InputOctets != 7 {
			t.Fatalf("sessions %+v total %d, %v", list, total, err)
		}
		if _, total, _ := db.Read().ListRadiusSessions(ctx, nas.SessionFilter{GroupID: g, MAC: "00:00:00:00:00:01", Limit: 10}, now.Add(-time.Hour)); total != 0 {
			t.Fatal("MAC filter ignored")
		}
		if _, total, _ := db.Read().ListRadiusSessions(ctx, nas.SessionFilter{GroupID: g, Limit: 10}, now.Add(2*time.Minute)); total != 0 {
			t.Fatal("stale sessions listed")
		}
		apply(nas.SessionBatch{Stops: []nas.SessionKey{{ClientID: c.ID, SessionID: "s1"}}})
		if _, total, _ := db.Read().ListRadiusSessions(ctx, nas.SessionFilter{Limit: 10}, now.Add(-time.Hour)); total != 1 {
			t.Fatalf("after stop: %d", total)
		}
		apply(nas.SessionBatch{Resets: []int64{c.ID}})
		if _, total, _ := db.Read().ListRadiusSessions(ctx, nas.SessionFilter{Limit: 10}, now.Add(-time.Hour)); total != 0 {
			t.Fatalf("after reset: %d", total)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteRadiusClient(ctx, c.ID) }); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteRadiusClient(ctx, c.ID) }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestRadiusPMKsStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "pmk").ID
		insertPSKs(t, db, pskRow(g, "p1"))
		var pskID int64
		if err := db.SQL().QueryRow(`SELECT id FROM psks`).Scan(&pskID); err != nil {
			t.Fatal(err)
		}
		put := func(pmks ...radius.SealedPMK) {
			t.Helper()
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.PutRadiusPMKs(ctx, pmks) }); err != nil {
				t.Fatal(err)
			}
		}
		put(radius.SealedPMK{PSKID: pskID, GroupID: g, SSID: "a", Sealed: []byte{1}},
			radius.SealedPMK{PSKID: pskID, GroupID: g, SSID: "b", Sealed: []byte{2}},
			radius.SealedPMK{PSKID: 999999, GroupID: g, SSID: "a", Sealed: []byte{3}}) // PSK gone: skipped
		put(radius.SealedPMK{PSKID: pskID, GroupID: g, SSID: "a", Sealed: []byte{9}})
		got, err := db.Read().RadiusPMKs(ctx)
		if err != nil || len(got) != 2 {
			t.Fatalf("PMKs %+v, %v", got, err)
		}
		for _, p := range got {
			if p.SSID == "a" && p.Sealed[0] != 9 {
				t.Fatalf("not replaced: %+v", p)
			}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteRadiusPMKs(ctx, pskID) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Read().RadiusPMKs(ctx); len(got) != 0 {
			t.Fatalf("after delete: %+v", got)
		}
	})
}
