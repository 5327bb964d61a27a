package store_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"netkeep/internal/device"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func TestPairingCodes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		g := mustGroup(t, db, "pairing")
		t0 := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
		code := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
		in := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
		for _, c := range []string{"LIVECODE", "LOCKCODE"} {
			if err := in(func(tx *store.Tx) error {
				return tx.CreatePairingCode(ctx, &device.PairingCode{Hash: code(c), GroupID: g.ID, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)})
			}); err != nil {
				t.Fatal(err)
			}
		}
		redeem := func(c string, at time.Time) (*device.PairingCode, error) {
			var pc *device.PairingCode
			err := in(func(tx *store.Tx) (err error) {
				pc, err = tx.RedeemPairingCode(ctx, code(c), at, code("boot-"+c), at.Add(5*time.Minute))
				return err
			})
			return pc, err
		}
		pc, err := redeem("LIVECODE", t0.Add(time.Minute))
		if err != nil || pc.GroupID != g.ID || pc.CreatedBy != 0 {
			t.Fatalf("redeem: %+v %v", pc, err)
		}
		if _, err := redeem("LIVECODE", t0.Add(time.Minute)); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second redemption: %v", err)
		}
		for range device.MaxFailures {
			if err := in(func(tx *store.Tx) error { return tx.FailPairingCodes(ctx, t0.Add(time.Minute)) }); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := redeem("LOCKCODE", t0.Add(time.Minute)); !fault.Is(err, fault.NotFound) {
			t.Fatalf("locked code redeemed: %v", err)
		}
		use := func(at time.Time) error {
			return in(func(tx *store.Tx) error { _, err := tx.UseBootstrapToken(ctx, code("boot-LIVECODE"), at); return err })
		}
		if err := use(t0.Add(6 * time.Minute)); !fault.Is(err, fault.NotFound) {
			t.Fatalf("expired bootstrap token used: %v", err)
		}
		if err := use(t0.Add(2 * time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := use(t0.Add(2 * time.Minute)); !fault.Is(err, fault.NotFound) {
			t.Fatalf("bootstrap token used twice: %v", err)
		}
	})
}

func TestDevicesStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mustGroup(t, db, "dev-a"), mustGroup(t, db, "dev-b")
		t0 := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
		upsert := func(id string, group int64, epoch string, at time.Time) error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				return tx.UpsertDevice(ctx, &device.Device{ID: id, GroupID: group, Name: id, Platform: "ios", Scopes: device.DefaultScopes,
					Epoch: epoch, CreatedAt: at, PairedAt: at, PushToken: []byte{1, 2}})
			})
		}
		for i, id := range []string{"a1", "a2", "a3"} {
			if err := upsert(id, a.ID, "e1", t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if err := upsert("a1", b.ID, "e2", t0); !fault.Is(err, fault.Conflict) {
			t.Fatalf("another group took a1: %v", err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeDevice(ctx, "a2", t0) }); err != nil {
			t.Fatal(err)
		}
		tx := db.Read()
		ds, total, err := tx.ListDevices(ctx, a.ID, device.Page{Limit: -1})
		if err != nil || total != 2 || len(ds) != 2 || ds[0].ID != "a1" || ds[1].ID != "a3" {
			t.Fatalf("list: %v %d %v", ds, total, err)
		}
		if ds, total, _ := tx.ListDevices(ctx, a.ID, device.Page{Limit: 1, Offset: 1}); total != 2 || len(ds) != 1 || ds[0].ID != "a3" {
			t.Fatalf("page: %v %d", ds, total)
		}
		if _, total, _ := tx.ListDevices(ctx, b.ID, device.Page{Limit: -1}); total != 0 {
			t.Fatalf("group b lists %d devices", total)
		}
		// Pairing a revoked id again in its group revives it with the new epoch.
		if err := upsert("a2", a.ID, "e3", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		d, err := tx.DeviceByID(ctx, "a2")
		if err != nil || d.RevokedAt != nil || d.Epoch != "e3" || !d.CreatedAt.Equal(t0.Add(time.Second)) || len(d.PushToken) != 2 {
			t.Fatalf("re-paired: %+v %v", d, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchDevice(ctx, "a2", t0.Add(2*time.Hour)) }); err != nil {
			t.Fatal(err)
		}
		if d, _ := tx.DeviceByID(ctx, "a2"); d.LastSeenAt == nil || !d.LastSeenAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("last seen: %v", d.LastSeenAt)
		}

		cookie := func(name, val string) *device.Cookie {
			return &device.Cookie{Name: name, Path: "/", Sealed: []byte(val), SameSite: "Lax", UpdatedAt: t0}
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SaveCookies(ctx, "a1", "grafana", []*device.Cookie{cookie("s", "v1"), cookie("t", "v")}); err != nil {
				return err
			}
			if err := tx.SaveCookies(ctx, "a1", "grafana", []*device.Cookie{cookie("s", "v2")}); err != nil {
				return err
			}
			return tx.SaveCookies(ctx, "a1", "wiki", []*device.Cookie{cookie("s", "w")})
		})
		if err != nil {
			t.Fatal(err)
		}
		cs, err := tx.Cookies(ctx, "a1", "grafana")
		if err != nil || len(cs) != 2 || string(cs[0].Sealed) != "v2" || cs[0].AppID != "grafana" {
			t.Fatalf("cookies: %+v %v", cs, err)
		}
		var n int
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) { n, err = tx.DeleteCookies(ctx, "a1", "grafana"); return err }); err != nil || n != 2 {
			t.Fatalf("delete grafana: %d %v", n, err)
		}
		if cs, _ := tx.Cookies(ctx, "a1", ""); len(cs) != 1 || cs[0].AppID != "wiki" {
			t.Fatalf("after deleting grafana: %+v", cs)
		}
	})
}
