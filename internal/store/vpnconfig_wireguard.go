package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"netkeep/internal/vpnconfig"
)

// WireGuard tunnel address leases (see 00010_wireguard_configs.sql).

// LeasedWireGuardAddresses deletes gatewayID's leases that expired at or
// before now, returning their addresses to the pool, and returns the
// addresses still leased.
func (tx *Tx) LeasedWireGuardAddresses(ctx context.Context, gatewayID string, now time.Time) ([]netip.Addr, error) {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM wireguard_leases WHERE gateway_id = $1 AND expires_at <= $2`,
		gatewayID, now.UTC()); err != nil {
		return nil, wrap(err, "reading leased WireGuard addresses")
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT address FROM wireguard_leases WHERE gateway_id = $1`, gatewayID)
	if err != nil {
		return nil, wrap(err, "reading leased WireGuard addresses")
	}
	defer rows.Close()
	out := []netip.Addr{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, wrap(err, "reading leased WireGuard addresses")
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("gateway %s: stored lease address %q: %w", gatewayID, s, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertWireGuardLease leases addr on gatewayID to configID until
// expiresAt; an address already leased is a conflict.
func (tx *Tx) InsertWireGuardLease(ctx context.Context, gatewayID string, addr netip.Addr, configID string, expiresAt time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO wireguard_leases (gateway_id, address, config_id, expires_at)
		VALUES ($1, $2, $3, $4)`, gatewayID, addr.String(), configID, expiresAt.UTC())
	return classify(err, "", "this tunnel address is already leased")
}

// ReleaseWireGuardLease deletes configID's lease, if any.
func (tx *Tx) ReleaseWireGuardLease(ctx context.Context, configID string) error {
	_, err := tx.q.ExecContext(ctx, `DELETE FROM wireguard_leases WHERE config_id = $1`, configID)
	return wrap(err, "releasing WireGuard lease")
}

// ActiveWireGuardConfigs returns gatewayID's WireGuard configurations that
// are neither revoked nor expired at now, by creation, without keys.
func (tx *Tx) ActiveWireGuardConfigs(ctx context.Context, gatewayID string, now time.Time) ([]*vpnconfig.Config, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+vpnConfigColumns+` FROM vpn_configs
		WHERE gateway_id = $1 AND protocol = 'wireguard' AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at, id`, gatewayID, now.UTC())
	if err != nil {
		return nil, wrap(err, "reading active WireGuard configs")
	}
	defer rows.Close()
	out := []*vpnconfig.Config{}
	for rows.Next() {
		c, err := scanVPNConfig(rows, false)
		if err != nil {
			return nil, wrap(err, "reading active WireGuard configs")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
