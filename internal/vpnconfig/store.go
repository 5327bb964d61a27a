package vpnconfig

import (
	"context"
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
}
