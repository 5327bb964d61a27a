package vpnconfig

import (
	"context"
	"net/netip"
	"time"

	"netkeep/internal/audit"
)

// Store is vpnconfig's view of persistence; internal/store binds it with
// store.For[vpnconfig.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the configs table. Lookups return a not_found
// fault for missing rows.
type Tx interface {
	audit.Writer
	// InsertVPNConfig records c; a duplicate id is a conflict.
	InsertVPNConfig(ctx context.Context, c *Config) error
	// VPNConfig returns the configuration with its sealed key.
	VPNConfig(ctx context.Context, id string) (*Config, error)
	// ListVPNConfigs returns the page of configurations q selects, newest
	// first, without sealed keys, and how many q selects in all.
	ListVPNConfigs(ctx context.Context, q Query) ([]*Config, int, error)
	// RecordVPNConfigDownload counts one download at at.
	RecordVPNConfigDownload(ctx context.Context, id string, at time.Time) error
	// RevokeVPNConfig marks an unrevoked configuration revoked and erases
	// its sealed key; not_found when none is unrevoked with id.
	RevokeVPNConfig(ctx context.Context, id string, at time.Time) error

	// LockScope serialises address allocation on one gateway across
	// replicas.
	LockScope(ctx context.Context, key int64) error
	// LeasedWireGuardAddresses deletes gatewayID's leases that expired at
	// or before now and returns the addresses still leased.
	LeasedWireGuardAddresses(ctx context.Context, gatewayID string, now time.Time) ([]netip.Addr, error)
	// InsertWireGuardLease leases addr on gatewayID to configuration
	// configID until expiresAt; an address already leased is a conflict.
	InsertWireGuardLease(ctx context.Context, gatewayID string, addr netip.Addr, configID string, expiresAt time.Time) error
	// ReleaseWireGuardLease deletes configID's lease, if any.
	ReleaseWireGuardLease(ctx context.Context, configID string) error
	// ActiveWireGuardConfigs returns gatewayID's WireGuard configurations
	// that are neither revoked nor expired at now, without sealed keys.
	ActiveWireGuardConfigs(ctx context.Context, gatewayID string, now time.Time) ([]*Config, error)
	// BumpGatewayVersions raises the config version of each listed
	// gateway, so that its agent refreshes (here: its WireGuard peers).
	BumpGatewayVersions(ctx context.Context, ids []string, at time.Time) error
}
