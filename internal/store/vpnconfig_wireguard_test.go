package store_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
	"netkeep/internal/vpnconfig"
)

func TestWireGuardConfigsAndLeases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		addr := func(s string) netip.Addr { return netip.MustParseAddr(s) }
		mk := func(id, key, a string, exp time.Time) *vpnconfig.Config {
			return &vpnconfig.Config{ID: id, UserID: 1, GroupID: 10, GatewayID: "gw-1", Protocol: vpnconfig.WireGuard,
				CommonName: "u", KeySealed: []byte("sealed"), WireGuardKey: key, Address: netip.MustParsePrefix(a + "/32"),
				CreatedAt: base, ExpiresAt: exp}
		}
		live := mk("cfg-live", "key-live", "10.8.0.2", base.Add(time.Hour))
		old := mk("cfg-old", "key-old", "10.8.0.3", base.Add(time.Minute))
		gone := mk("cfg-gone", "key-gone", "10.8.0.4", base.Add(time.Hour))
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			for _, c := range []*vpnconfig.Config{live, old, gone} {
				if err := tx.InsertVPNConfig(ctx, c); err != nil {
					return err
				}
				if err := tx.InsertWireGuardLease(ctx, c.GatewayID, c.Address.Addr(), c.ID, c.ExpiresAt); err != nil {
					return err
				}
			}
			if err := tx.RevokeVPNConfig(ctx, gone.ID, base); err != nil {
				return err
			}
			return tx.ReleaseWireGuardLease(ctx, gone.ID)
		})
		got, err := db.Read().VPNConfig(ctx, live.ID)
		if err != nil || got.WireGuardKey != "key-live" || got.Address != live.Address || got.Serial != "" {
			t.Fatalf("read back %+v (%v)", got, err)
		}

		for name, fn := range map[string]func(tx *store.Tx) error{
			"address leased": func(tx *store.Tx) error {
				return tx.InsertWireGuardLease(ctx, "gw-1", addr("10.8.0.2"), "cfg-other", base.Add(time.Hour))
			},
			"public key taken": func(tx *store.Tx) error {
				return tx.InsertVPNConfig(ctx, mk("cfg-dup", "key-live", "10.8.0.9", base.Add(time.Hour)))
			},
		} {
			if err := db.InTx(ctx, fn); !fault.Is(err, fault.Conflict) {
				t.Errorf("%s: %v, want conflict", name, err)
			}
		}
		// The same address on another gateway is free.
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertWireGuardLease(ctx, "gw-2", addr("10.8.0.2"), "cfg-gw2", base.Add(time.Hour))
		})

		// At base+30m: cfg-old has expired (its lease goes), cfg-gone was
		// revoked (its lease went).
		at := base.Add(30 * time.Minute)
		var leased []netip.Addr
		inTx(t, db, func(ctx context.Context, tx *store.Tx) error {
			leased, err = tx.LeasedWireGuardAddresses(ctx, "gw-1", at)
			return err
		})
		if fmt.Sprint(leased) != "[10.8.0.2]" {
			t.Errorf("leased %v, want [10.8.0.2]", leased)
		}
		active, err := db.Read().ActiveWireGuardConfigs(ctx, "gw-1", at)
		if err != nil || len(active) != 1 || active[0].ID != live.ID || active[0].KeySealed != nil {
			t.Errorf("active %+v (%v), want only %s without its key", active, err, live.ID)
		}
	})
}
