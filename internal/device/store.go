package device

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// Store is device's view of persistence; internal/store binds it with
// store.For[device.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over pairing codes, devices and their cookies.
// Lookups return a not_found fault for a missing row.
type Tx interface {
	audit.Writer

	// CreatePairingCode inserts a code; a duplicate hash is a conflict.
	CreatePairingCode(ctx context.Context, c *PairingCode) error
	// RedeemPairingCode marks the live, unlocked, unredeemed code with hash
	// redeemed at now, storing the bootstrap token's hash and expiry, and
	// returns it; not_found when there is no such code.
	RedeemPairingCode(ctx context.Context, hash [32]byte, now time.Time, bootstrap [32]byte, bootstrapExpires time.Time) (*PairingCode, error)
	// FailPairingCodes counts one failed redemption against every code
	// still live at now.
	FailPairingCodes(ctx context.Context, now time.Time) error
	// UseBootstrapToken marks the unused, unexpired bootstrap token with
	// hash used at now and returns its code; not_found otherwise.
	UseBootstrapToken(ctx context.Context, hash [32]byte, now time.Time) (*PairingCode, error)
	// DeletePairingCodes removes codes that expired before.
	DeletePairingCodes(ctx context.Context, before time.Time) error

	// UpsertDevice inserts d, or replaces the pairing of the device with
	// d's id (name, model, platform, push token, scopes, epoch, paired_at;
	// revocation cleared) when it belongs to d's group; a device of that id
	// in another group is a conflict.
	UpsertDevice(ctx context.Context, d *Device) error
	// DeviceByID returns the device, revoked or not.
	DeviceByID(ctx context.Context, id string) (*Device, error)
	// ListDevices returns the unrevoked devices of group (0: every group),
	// oldest first, and how many there are in all.
	ListDevices(ctx context.Context, groupID int64, page Page) ([]*Device, int, error)
	UpdateDevice(ctx context.Context, d *Device) error
	// RevokeDevice sets revoked_at on the unrevoked device; not_found if
	// there is none.
	RevokeDevice(ctx context.Context, id string, at time.Time) error
	// TouchDevice raises last_seen_at to at.
	TouchDevice(ctx context.Context, id string, at time.Time) error

	// SaveCookies inserts or replaces cookies by (device, app, name, path).
	SaveCookies(ctx context.Context, deviceID, appID string, cs []*Cookie) error
	// Cookies returns the cookies of a device, of one app when appID is set.
	Cookies(ctx context.Context, deviceID, appID string) ([]*Cookie, error)
	// DeleteCookies deletes a device's cookies, of one app when appID is
	// set, and returns how many.
	DeleteCookies(ctx context.Context, deviceID, appID string) (int, error)
}

// PairingCode is a stored pairing code.
type PairingCode struct {
	Hash      [32]byte
	GroupID   int64
	CreatedBy int64 // 0: local trust
	CreatedAt time.Time
	ExpiresAt time.Time
}
