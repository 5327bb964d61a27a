package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
	"netkeep/internal/vpnconfig"
)

var _ vpnconfig.Tx = (*store.Tx)(nil)

func TestVPNConfigs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		mk := func(id string, user, group int64, gw string, at time.Time) *vpnconfig.Config {
			return &vpnconfig.Config{ID: id, UserID: user, GroupID: group, GatewayID: gw, Protocol: vpnconfig.OpenVPN,
				Serial: pki.Serial("AB" + id[4:]), CommonName: "u", KeySealed: []byte("sealed-" + id), CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
		}
		a := mk("cfg-a", 1, 10, "gw-1", base)
		b := mk("cfg-b", 2, 10, "gw-2", base.Add(time.Minute))
		c := mk("cfg-c", 3, 20, "gw-3", base.Add(2*time.Minute))
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			for _, x := range []*vpnconfig.Config{a, b, c} {
				if err := tx.InsertVPNConfig(ctx, x); err != nil {
					return err
				}
			}
			return nil
		})

		dup := *a
		dup.ID = "cfg-z" // same serial
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertVPNConfig(ctx, &dup) })
		if !fault.Is(err, fault.Conflict) {
			t.Errorf("duplicate serial: %v, want conflict", err)
		}

		got, err := db.Read().VPNConfig(ctx, "cfg-a")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.KeySealed, a.KeySealed) || got.Serial != a.Serial || !got.ExpiresAt.Equal(a.ExpiresAt) || got.Revoked() {
			t.Errorf("read back %+v, want %+v", got, a)
		}
		if _, err := db.Read().VPNConfig(ctx, "cfg-nope"); !fault.Is(err, fault.NotFound) {
			t.Errorf("missing: %v, want not_found", err)
		}

		for _, tc := range []struct {
			name  string
			q     vpnconfig.Query
			total int
			ids   []string
		}{
			{"all newest first", vpnconfig.Query{}, 3, []string{"cfg-c", "cfg-b", "cfg-a"}},
			{"group", vpnconfig.Query{GroupID: 10}, 2, []string{"cfg-b", "cfg-a"}},
			{"user", vpnconfig.Query{UserID: 3}, 1, []string{"cfg-c"}},
			{"gateway", vpnconfig.Query{GatewayID: "gw-1"}, 1, []string{"cfg-a"}},
			{"page", vpnconfig.Query{GroupID: 10, Limit: 1, Offset: 1}, 2, []string{"cfg-a"}},
		} {
			list, total, err := db.Read().ListVPNConfigs(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, x := range list {
				ids = append(ids, x.ID)
				if x.KeySealed != nil {
					t.Errorf("%s: listing carries a sealed key", tc.name)
				}
			}
			if total != tc.total || len(ids) != len(tc.ids) || (len(ids) > 0 && ids[0] != tc.ids[0]) {
				t.Errorf("%s: %v (total %d), want %v (total %d)", tc.name, ids, total, tc.ids, tc.total)
			}
		}

		at := base.Add(time.Hour)
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.RecordVPNConfigDownload(ctx, "cfg-a", at); err != nil {
				return err
			}
			return tx.RecordVPNConfigDownload(ctx, "cfg-a", at.Add(time.Second))
		})
		got, _ = db.Read().VPNConfig(ctx, "cfg-a")
		if got.Downloads != 2 || got.LastDownload == nil || !got.LastDownload.Equal(at.Add(time.Second)) {
			t.Errorf("downloads %d at %v, want 2 at %v", got.Downloads, got.LastDownload, at.Add(time.Second))
		}

		inTx(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.RevokeVPNConfig(ctx, "cfg-a", at) })
		got, _ = db.Read().VPNConfig(ctx, "cfg-a")
		if got.RevokedAt == nil || !got.RevokedAt.Equal(at) || got.KeySealed != nil {
			t.Errorf("after revoke: revoked_at %v, key %q; want %v and no key", got.RevokedAt, got.KeySealed, at)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeVPNConfig(ctx, "cfg-a", at) })
		if !fault.Is(err, fault.NotFound) {
			t.Errorf("second revoke: %v, want not_found", err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error { return tx.RecordVPNConfigDownload(ctx, "cfg-nope", at) })
		if !fault.Is(err, fault.NotFound) {
			t.Errorf("download of missing: %v, want not_found", err)
		}
	})
}
