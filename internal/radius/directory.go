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
	// Snapshot streams every PSK and every endpoint of every group to the
	// callbacks, never holding them all: at a million stations the
	// domain's objects would be several hundred megabytes, where the
	// directory keeps under 200 bytes per station. The two streams may
	// run at the same time (each callback is called from one goroutine at
	// a time). An error from a callback ends it and is returned.
	Snapshot(ctx context.Context, psk func(PSK) error, endpoint func(Endpoint) error) error
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

// Candidates is one (group, SSID)'s PSKs with their PMKs, for handshake
// checks: Keys[i] is the PMK of Creds[i] on the SSID. The keys are held by
// value in one slice so that a search walks memory in order. Immutable
// once built; a change builds a new one.
type Candidates struct {
	Creds []*Credential
	Keys  []wpa.Key
}

// Len is the number of candidates; a nil *Candidates has none.
func (c *Candidates) Len() int {
	if c == nil {
		return 0
	}
	return len(c.Creds)
}

// Directory is what the packet path asks. Implementations answer from
// memory, never from the database, and are safe for concurrent use.
type Directory interface {
	// ByMAC returns the station's binding in group, if any.
	ByMAC(group int64, mac MAC) (Grant, bool)
	// Candidates returns group's PSKs with a PMK for ssid (nil: none).
	Candidates(group int64, ssid []byte) *Candidates
	// Recent returns the few candidates of group on ssid that matched a
	// handshake last (most recent first; nil: none), to be tried before
	// the full search: another device of the same PSK, or a station back
	// with a new random MAC. An entry may have gone stale since; Current
	// tells.
	Recent(group int64, ssid []byte) *Candidates
	// Matched records that cred's key on ssid matched a handshake.
	Matched(group int64, ssid []byte, cred *Credential, key *wpa.Key)
	// Current reports whether cred is still the PSK's credential and k its
	// PMK on ssid.
	Current(cred *Credential, ssid []byte, k *wpa.Key) bool
	// Pending returns how many of group's PSKs still wait for their PMK on
	// ssid (derived in the background) and, when that is at most max,
	// their credentials.
	Pending(group int64, ssid []byte, max int) (int, []*Credential)
	// Derive derives cred's PMK on ssid now (PBKDF2, about a millisecond
	// of CPU), installs it and has it stored; nil when it cannot.
	Derive(cred *Credential, ssid []byte) *wpa.Key
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
