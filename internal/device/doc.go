// Package device is the domain of Nekzus's paired devices: pairing codes (the
// QR flow), the bootstrap tokens a redeemed code hands out, devices and
// their tokens, and the vault of webview cookies a device's proxied apps
// set.
//
// Pairing runs in three steps, each single-use and short-lived: an
// administrator asks for a code (NewCode, 5 minutes); the phone redeems it
// (Redeem) for a bootstrap token (5 minutes); the phone pairs with the
// bootstrap token (Pair) and gets a device token (12 hours) that it renews
// with Refresh. Codes and bootstrap tokens are stored only as SHA-256.
//
// Device tokens are JWTs signed with the server's key for their own
// audience. Verification (Authenticate) consults the Registry, the
// in-memory state of devices that follows the event bus, so revoking a
// device on any replica makes its tokens fail on every replica as soon as
// the event arrives. Every change writes its audit entry in the same
// transaction and publishes a "device" event after commit.
//
// device imports neither net/http nor database/sql: internal/store
// implements Tx, and the Nekzus API (internal/api/nekzus) is its transport.
package device
