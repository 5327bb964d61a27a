package psk

import "time"

// PSK is an identity pre-shared key: one WPA2 passphrase of a group, with the
// VLAN its stations join and an optional expiry.
type PSK struct {
	ID          int64
	GroupID     int64
	PSKID       string // the group-unique name, e.g. "guest-a1b2c3d4"
	Passphrase  string // in clear only in memory; empty in listings
	Description string
	VLANID      *int // 1..4094, or nil for the SSID's default VLAN
	Enabled     bool
	Expires     *time.Time // whole seconds, UTC; nil never expires
	CreatedBy   int64      // the creating user, 0 for the master key or the system
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Usable reports whether p authenticates stations at now: enabled and not
// yet at its expiry instant.
func (p *PSK) Usable(now time.Time) bool { return p.Enabled && !p.Expired(now) }

// Expired reports whether p's expiry instant has come at now.
func (p *PSK) Expired(now time.Time) bool { return p.Expires != nil && !now.Before(*p.Expires) }

// Endpoint is a station (by MAC address) bound to a PSK of its group.
type Endpoint struct {
	ID          int64
	GroupID     int64 // always its PSK's group
	MAC         string
	Description string
	PSKID       int64 // the PSK's numeric ID
	VLANID      *int  // overrides the PSK's VLAN when set
	Enabled     bool
	LastSeen    *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Usable reports whether e authenticates at now with p, which must be the
// PSK it is bound to: both enabled and p unexpired.
func (e *Endpoint) Usable(now time.Time, p *PSK) bool {
	return e.Enabled && p != nil && p.ID == e.PSKID && p.GroupID == e.GroupID && p.Usable(now)
}

// VLAN is the VLAN a station on e gets with p: e's override, else p's.
func (e *Endpoint) VLAN(p *PSK) *int {
	if e.VLANID != nil {
		return e.VLANID
	}
	if p == nil {
		return nil
	}
	return p.VLANID
}

// Row is a PSK as stored: the passphrase only sealed. Sealed is
// secret.Keys.Seal of the passphrase under the context "psk:" + SealID, a
// random per-row id, so rows can be sealed before the database numbers them
// (bulk inserts) and a ciphertext copied into another row does not open.
type Row struct {
	PSK
	Sealed       []byte
	SealID       string
	ExpiryNotice *time.Time // when the sweep reported the expiry; nil: not yet
}

// Key is what authenticates of a PSK, for an in-memory index that holds
// every PSK (the RADIUS directory): no name, description or timestamps,
// whose reading and parsing were most of a million-PSK restart's work.
type Key struct {
	ID         int64
	GroupID    int64
	Passphrase string // in clear
	VLANID     int    // 0: the SSID's default
	Enabled    bool
	Expires    time.Time // zero: never
}

// SealedKey is a Key as stored: the passphrase sealed.
type SealedKey struct {
	ID      int64
	GroupID int64
	Sealed  []byte
	SealID  []byte
	VLANID  int
	Enabled bool
	Expires time.Time
}

// Binding is what authenticates of an endpoint, for an in-memory index.
type Binding struct {
	ID      int64
	GroupID int64
	MAC     []byte // as stored (canonical text)
	PSKID   int64
	VLANID  int // 0: the PSK's
	Enabled bool
}

// NewPSK is what a caller asks to create. Empty PSKID and Passphrase are
// generated.
type NewPSK struct {
	PSKID          string
	Passphrase     string
	Description    string
	VLANID         *int
	Expires        string // ISO 8601 (see ParseExpiry); "" for none
	ExpiresInHours *int   // the alternative to Expires
	Enabled        *bool  // default true
}

// Patch changes the given fields of a PSK; nil fields stay as they are.
type Patch struct {
	PSKID          *string
	Passphrase     *string
	Description    *string
	VLANID         *int
	ClearVLAN      bool    // remove the VLAN (JSON null)
	Expires        *string // ISO 8601; "" removes the expiry
	ExpiresInHours *int
	Enabled        *bool
}

// Filter selects PSKs for a listing. GroupID is applied by the service from
// the caller; Search matches psk_id or description, case-insensitively.
type Filter struct {
	GroupID int64 // 0: every group (super principals)
	Enabled *bool
	VLANID  *int
	Search  string
	// Prefix matches psk_id or description starting with it, ignoring
	// case (ASCII case on SQLite); unlike Search, an index serves it.
	Prefix  string
	Expired *bool
	Now     time.Time // the instant Expired is judged at
	// CountUpTo, when positive, stops the filtered total there (a page
	// says "more than"), so that a filter most of a large group matches
	// costs a page rather than a scan.
	CountUpTo int
	// AfterID starts the page after the PSK with this ID (keyset paging:
	// a page deep in the list costs what the first does, unlike Offset).
	AfterID int64
	Limit   int
	Offset  int
}

// Unfiltered reports whether f selects every PSK of its group(s), so the
// total can come from the maintained counters instead of a count.
func (f Filter) Unfiltered() bool {
	return f.Enabled == nil && f.VLANID == nil && f.Search == "" && f.Prefix == "" && f.Expired == nil
}

// Page is one page of a listing and the number of matches in all pages.
// At is the instant the listing was taken at: the Expired filter's, and
// the one to judge each PSK's Expired at so that both agree.
type Page struct {
	PSKs  []*PSK
	Total int
	At    time.Time
}

// PSKRef names a PSK the way clients do: by numeric ID, or by its psk_id
// name within a group.
type PSKRef struct {
	ID   int64
	Name string
}

// NewEndpoint is what a caller asks to create.
type NewEndpoint struct {
	MAC         string
	Description string
	PSK         PSKRef
	VLANID      *int
	Enabled     *bool // default true
}

// EndpointPatch changes the given fields of an endpoint.
type EndpointPatch struct {
	MAC         *string
	Description *string
	PSK         *PSKRef
	VLANID      *int
	ClearVLAN   bool
	Enabled     *bool
}

// EndpointFilter selects endpoints for a listing.
type EndpointFilter struct {
	GroupID int64 // 0: every group
	PSKID   int64 // 0: any PSK
	Enabled *bool
	Search  string // MAC or description substring
	Limit   int
	Offset  int
}

// EndpointPage is one page of endpoints and the number of matches.
type EndpointPage struct {
	Endpoints []*Endpoint
	Total     int
}

// Limits of listings and requests.
const (
	DefaultLimit   = 100
	MaxLimit       = 1000
	MaxBulk        = 1000 // items per bulk request
	MaxDescription = 500  // characters
	MaxPSKIDLen    = 64
)
