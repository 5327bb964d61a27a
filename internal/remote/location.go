package remote

import (
	"strings"

	"netkeep/internal/fault"
)

// The kinds of place a tool runs, as GateKey's clients name them in a
// location: "control-plane" (this server), "gateway:<gateway id>",
// "hub:<hub id>" (the hub's own gateway) and "spoke:<hub id>:<gateway id>"
// (a hub's gateway spoke).
const (
	KindServer  = "control-plane"
	KindGateway = "gateway"
	KindHub     = "hub"
	KindSpoke   = "spoke"
)

// Location is where a tool runs.
type Location struct {
	Kind string
	ID   string // "" for KindServer; "<hub id>:<gateway id>" for KindSpoke
}

// Server is this server's location.
var Server = Location{Kind: KindServer}

// String is the location as clients name it.
func (l Location) String() string {
	if l.Kind == KindServer {
		return KindServer
	}
	return l.Kind + ":" + l.ID
}

// ParseLocation reads a client's location; "" is the server.
// Errors: invalid (details {"field": "location"}).
func ParseLocation(s string) (Location, error) {
	if s == "" || s == KindServer {
		return Server, nil
	}
	kind, id, _ := strings.Cut(s, ":")
	switch kind {
	case KindGateway, KindHub:
		if id != "" && !strings.Contains(id, ":") {
			return Location{Kind: kind, ID: id}, nil
		}
	case KindSpoke:
		if hub, gw, ok := strings.Cut(id, ":"); ok && hub != "" && gw != "" {
			return Location{Kind: kind, ID: id}, nil
		}
	}
	return Location{}, fault.New(fault.Invalid, "location must be control-plane, gateway:<id>, hub:<id> or spoke:<hub id>:<gateway id>").
		WithDetails(map[string]any{"field": "location"})
}
