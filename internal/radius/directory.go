package radius

import (
	"context"
	"time"

	"netkeep/internal/radius/wpa"
)

// PSK is an identity PSK as the RADIUS server needs it.
type PSK struct {
	ID         int64
	GroupID    int64
	Name       string // the PSK's psk_id, for logs
	Passphrase string // 8..63 printable characters or 64 hex digits
	VLAN       int    // 0: none
	Enabled    bool
	ExpiresAt  time.Time // zero: never
}

// Endpoint is a station bound to a PSK by MAC address.
type Endpoint struct {
	ID        int64
	GroupID   int64
	MAC       MAC
	PSKID     int64
	VLAN      int // overrides the PSK's when not 0
	Enabled   bool
	ExpiresAt time.Time // zero: never
}

// Source is where the directory loads PSKs and endpoints from: the psk
// domain behind an adapter. Lookups return a not_found fault for an object
// that no longer exists.
type Source interface {
	// Snapshot returns every PSK and endpoint of every group.
	Snapshot(ctx context.Context) ([]PSK, []Endpoint, error)
	PSK(ctx context.Context, id int64) (PSK, error)
	Endpoint(ctx context.Context, id int64) (Endpoint, error)
	// BindEndpoint enrols mac in group with the PSK (auto-enrolment after a
	// handshake match) and returns the endpoint; a conflict when the MAC is
	// already bound in the group.
	BindEndpoint(ctx context.Context, groupID, pskID int64, mac MAC) (Endpoint, error)
	// TouchEndpoints raises last_seen of the endpoints to the given times.
	// It must not keep seen: the caller reuses the map once it returns.
	TouchEndpoints(ctx context.Context, seen map[int64]time.Time) error
}

// Credential is one PSK as the packet path sees it: immutable; a change
// replaces it. It is kept to 40 bytes because the directory holds one per
// PSK (in one array after a full load): the PSK's name is not needed to
// answer and is not kept, and times are unix seconds in 32 bits (good until
// 2106).
type Credential struct {
	PSKID      int64
	GroupID    int64
	Passphrase string
	Expires    uint32 // unix seconds; 0: never
	VLAN       uint16 // 0: none
	Enabled    bool
	hexKey     bool // Passphrase is 64 hex digits: the PMK itself
}

// Grant is what MAC authentication found for a station.
type Grant struct {
	Cred       *Credential
	EndpointID int64 // 0 for a binding not yet stored (auto-enrolment in flight)
	VLAN       int   // the endpoint's override, else the PSK's
	Expires    int64 // the earlier of the PSK's and the endpoint's expiry; 0 never
	Enabled    bool  // the endpoint's
}

// Candidate is a PSK with its PMK for one SSID, for handshake checks.
type Candidate struct {
	Cred *Credential
	Key  *wpa.Key
}

// Directory is what the packet path asks. Implementations answer from
// memory, never from the database, and are safe for concurrent use.
type Directory interface {
	// ByMAC returns the station's binding in group, if any.
	ByMAC(group int64, mac MAC) (Grant, bool)
	// Candidates returns group's PSKs with a PMK for ssid. The slice is
	// shared and must not be modified.
	Candidates(group int64, ssid []byte) []Candidate
	// CachedKey returns the PMK of cred on ssid when it is already derived
	// (in the background, for the SSIDs the group's clients list), nil
	// otherwise; it never derives, so the packet path may call it.
	CachedKey(cred *Credential, ssid []byte) *wpa.Key
	// Bind records that mac in group authenticated with cred's PSK
	// (auto-enrolment): the next ByMAC finds it at once; storing it happens
	// in the background.
	Bind(group int64, mac MAC, cred *Credential)
	// Seen records that the station was active at t (unix seconds).
	Seen(group int64, mac MAC, t int64)
}
