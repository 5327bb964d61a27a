package catalog

import (
	"time"
)

// Proposal is a service discovery found and suggests adding to the
// catalog.
type Proposal struct {
	ID             string
	GroupID        int64  // the group whose admins see it and whose app it becomes
	Source         string // "docker"
	SourceKey      string // the source's own name for it (a container name)
	Scheme         string
	Host           string
	Port           int
	Confidence     float64
	SuggestedApp   SuggestedApp
	SuggestedRoute SuggestedRoute
	Ports          []PortOption
	Tags           []string
	SecurityNotes  []string
	LastSeen       time.Time
	State          string // ProposalPending, ProposalDismissed, ProposalApproved
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// SuggestedApp is the app a proposal would create.
type SuggestedApp struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Icon string `json:"icon"`
}

// SuggestedRoute is the route a proposal would create, with the options
// its labels asked for.
type SuggestedRoute struct {
	PathBase    string   `json:"pathBase"`
	To          string   `json:"to"`
	WebSocket   bool     `json:"websocket,omitempty"`
	StripPrefix *bool    `json:"stripPrefix,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
	Auth        Auth     `json:"auth,omitempty"`
}

// PortOption is one port a discovered service listens on.
type PortOption struct {
	Port   int    `json:"port"`
	Scheme string `json:"scheme"`
	Label  string `json:"label"`
}

// The proposal states. Dismissed proposals are kept so the same service is
// not proposed again until a rediscovery clears them.
const (
	ProposalPending   = "pending"
	ProposalDismissed = "dismissed"
	ProposalApproved  = "approved"
)

// Sighting is one running service as a discovery source sees it: what the
// Scanner reports and Observe turns into a proposal.
type Sighting struct {
	Source string // "docker"
	Key    string // stable name within the source (container name)
	Name   string // display name (container name without the slash)
	Image  string
	Labels map[string]string
	// Ports are the ports the service listens on that can be reached from
	// this host: published ports, or with host networking the ports its
	// labels or image name.
	Ports       []SightedPort
	HostNetwork bool
}

// SightedPort is one reachable port.
type SightedPort struct {
	Host string // address to reach it at ("127.0.0.1" for a port published on all addresses)
	Port int
}
