package offboard

import (
	"time"

	"netkeep/internal/identity"
)

// Facet names the kind of an item.
type Facet string

// The facets, in the order a report lists them.
const (
	FacetUser          Facet = "user"
	FacetSession       Facet = "session"        // a sign-in (web, API, refresh) session
	FacetAPIKey        Facet = "api_key"        // an API key the user created
	FacetDevice        Facet = "device"         // a paired device the user made the pairing code for
	FacetPSK           Facet = "psk"            // a WiFi identity PSK the user created
	FacetEndpoint      Facet = "endpoint"       // a station bound to one of those PSKs
	FacetMeshNode      Facet = "mesh_node"      // a node the user enrolled
	FacetCertificate   Facet = "certificate"    // a VPN client certificate of the user
	FacetVPNConfig     Facet = "vpn_config"     // a VPN client configuration of the user
	FacetVPNSession    Facet = "vpn_session"    // a live gateway session of the user
	FacetRadiusSession Facet = "radius_session" // a live RADIUS accounting session of one of the stations
)

// State is where an item stands: Active before enforcement (an inventory, a
// dry run), then what enforcement did to it.
type State string

// The states.
const (
	Active   State = "active"   // still grants access
	Disabled State = "disabled" // a PSK, the user
	Unbound  State = "unbound"  // an endpoint (the binding deleted)
	Removed  State = "removed"  // a mesh node: gone from every peer list
	Revoked  State = "revoked"  // a certificate, configuration, device or API key
	Ended    State = "ended"    // a sign-in session
	Deleted  State = "deleted"  // the user, on request
	// CutSent: a gateway session's cut was published to the gateway's
	// remote-session channel; a gateway that is not connected refuses the
	// revoked certificate at its next client-rules or verify call.
	CutSent State = "cut_sent"
	// The answers of a NAS to a Disconnect or CoA request (RADIUS sessions).
	DAEAck         State = "ack"
	DAENak         State = "nak"
	DAETimeout     State = "timeout"
	DAEUnreachable State = "unreachable"
	DAENotSent     State = "not_sent"
	// Failed: the facet refused or failed; Detail says why (safe text).
	Failed State = "failed"
)

// Item is one thing the user holds.
type Item struct {
	Facet  Facet
	ID     string // the facet's id of the item, as its own API names it
	Name   string // a human name, when the facet has one
	State  State
	Detail string // a NAS's Error-Cause, a failure's reason
	// Attempts is how many requests a NAS took (RADIUS sessions).
	Attempts int
	// EndedAt is when enforcement finished for this item; zero before.
	EndedAt time.Time
}

// Options are what the caller asks of an offboarding.
type Options struct {
	DryRun     bool // list what would end, change nothing
	DeleteUser bool // delete the user at the end instead of disabling it
}

// Report is the answer of an inventory or an offboarding.
type Report struct {
	User   *identity.User // nil for a single device or node
	DryRun bool
	// Enforced is false for inventories and dry runs.
	Enforced bool
	Items    []Item
	// Started and Finished bound the operation; Finished - Started is how
	// long enforcement took, the slowest NAS included.
	Started  time.Time
	Finished time.Time
}

// Counts returns how many items of each facet the report holds.
func (r *Report) Counts() map[Facet]int {
	out := map[Facet]int{}
	for _, it := range r.Items {
		out[it.Facet]++
	}
	return out
}

// Failures returns how many items enforcement could not end (failed, or a
// NAS that refused, did not answer or could not be reached).
func (r *Report) Failures() int {
	n := 0
	for _, it := range r.Items {
		switch it.State {
		case Failed, DAENak, DAETimeout, DAEUnreachable:
			n++
		}
	}
	return n
}
