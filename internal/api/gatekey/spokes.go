package gatekey

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// gatekey-admin's mesh spoke commands. A GateKey spoke is a gateway joined
// to a hub; in netkeep it is the hub's gateway spoke, named
// "<hub id>:<gateway id>". Its spoke_network is what netkeep derives: the
// networks behind that gateway (comma-separated); a given one is checked
// to be a prefix and otherwise not kept, since netkeep routes a gateway's
// networks, not a declared one. session_enabled is accepted and has no
// effect: a connected agent always takes its group's administrators'
// remote sessions (admin_session.go). A hub's network spokes are
// not GateKey spokes and are not listed here (the topology shows them).
// Spokes are changed through the hub (gateway.AddSpoke/RemoveSpoke),
// audited as mesh-hub.update.

// meshSpokeJSON is a spoke as gatekey-admin decodes it (snake_case) and,
// under the names GateKey's web UI reads (camelCase), as the UI does.
// created_at is the hub's last change, the closest netkeep records.
type meshSpokeJSON struct {
	ID            string `json:"id"`
	GatewayID     string `json:"gateway_id"`
	GatewayName   string `json:"gateway_name,omitempty"`
	HubID         string `json:"hub_id"`
	HubName       string `json:"hub_name,omitempty"`
	SpokeNetwork  string `json:"spoke_network"`
	IsProvisioned bool   `json:"is_provisioned"`
	IsConnected   bool   `json:"is_connected"`
	CreatedAt     string `json:"created_at"`
	// The web UI's names: hubId, name (the gateway's), description (the
	// gateway's), localNetworks (spoke_network as a list), status
	// (GateKey's spoke states: pending before the gateway's first
	// heartbeat, then connected or disconnected), lastSeen (the last
	// heartbeat), hasClientCert (the gateway has its certificate).
	UIHubID       string   `json:"hubId"`
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	LocalNetworks []string `json:"localNetworks"`
	Status        string   `json:"status"`
	LastSeen      *string  `json:"lastSeen"`
	HasClientCert bool     `json:"hasClientCert"`
	UICreatedAt   string   `json:"createdAt"`
	UpdatedAt     string   `json:"updatedAt"`
}

// spokeView is the caller's hubs with the gateways and networks their
// spokes name.
type spokeView struct {
	h        *Handlers
	hubs     []*gateway.Hub
	gateways map[string]*gateway.Gateway
	nets     []*gateway.Network
}

func (h *Handlers) loadSpokes(r *http.Request) (*spokeView, error) {
	p := api.PrincipalFrom(r.Context())
	hubs, err := h.Gateways.AdminHubs(r.Context(), p)
	if err != nil {
		return nil, err
	}
	gws, err := h.Gateways.AdminGateways(r.Context(), p)
	if err != nil {
		return nil, err
	}
	nets, err := h.Gateways.Networks(r.Context(), p)
	if err != nil {
		return nil, err
	}
	v := &spokeView{h: h, hubs: hubs, gateways: make(map[string]*gateway.Gateway, len(gws)), nets: nets}
	for _, g := range gws {
		v.gateways[g.ID] = g
	}
	return v, nil
}

func (v *spokeView) spoke(hub *gateway.Hub, gatewayID string) meshSpokeJSON {
	out := meshSpokeJSON{ID: hub.ID + ":" + gatewayID, GatewayID: gatewayID, HubID: hub.ID, HubName: hub.Name,
		CreatedAt: timestamp(hub.UpdatedAt), UIHubID: hub.ID, Status: "pending", LocalNetworks: []string{},
		UICreatedAt: timestamp(hub.UpdatedAt), UpdatedAt: timestamp(hub.UpdatedAt)}
	if g := v.gateways[gatewayID]; g != nil {
		out.GatewayName, out.IsProvisioned = g.Name, g.LastHeartbeat != nil
		out.IsConnected = g.StatusAt(v.h.now()) == gateway.StatusOnline
		out.Name, out.Description, out.HasClientCert = g.Name, g.Description, g.CertSerial != ""
		out.LastSeen = optionalTime(g.LastHeartbeat)
		out.Status = spokeStatus(g, v.h.now())
	}
	for _, n := range v.nets {
		for _, id := range n.GatewayIDs {
			if id == gatewayID {
				out.LocalNetworks = append(out.LocalNetworks, n.CIDR.String())
			}
		}
	}
	out.SpokeNetwork = strings.Join(out.LocalNetworks, ",")
	return out
}

// spokeStatus is a spoke gateway's state in GateKey's words: pending
// before its first heartbeat, then connected while it is online,
// disconnected after.
func spokeStatus(g *gateway.Gateway, now time.Time) string {
	switch {
	case g.StatusAt(now) == gateway.StatusOnline:
		return "connected"
	case g.LastHeartbeat != nil:
		return "disconnected"
	}
	return "pending"
}

func (v *spokeView) all() []meshSpokeJSON {
	var out []meshSpokeJSON
	for _, hub := range v.hubs {
		for _, sp := range hub.Spokes {
			if sp.Kind == gateway.SpokeGateway {
				out = append(out, v.spoke(hub, sp.ID))
			}
		}
	}
	return out
}

// spokeID splits "<hub id>:<gateway id>"; anything else is not found.
func spokeID(id string) (hubID string, sp gateway.Spoke, err error) {
	hubID, gw, ok := strings.Cut(id, ":")
	if !ok || hubID == "" || gw == "" {
		return "", gateway.Spoke{}, fault.New(fault.NotFound, "mesh spoke not found")
	}
	return hubID, gateway.Spoke{Kind: gateway.SpokeGateway, ID: gw}, nil
}

func (h *Handlers) meshSpokes(w http.ResponseWriter, r *http.Request) {
	v, err := h.loadSpokes(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "spokes", v.all(), func(s meshSpokeJSON) meshSpokeJSON { return s })
}

// oneSpoke answers the spoke the path's {id} names, after change (nil: a
// read) has run on it.
func (h *Handlers) oneSpoke(w http.ResponseWriter, r *http.Request, status int,
	change func(hubID string, sp gateway.Spoke) error) {
	hubID, sp, err := spokeID(r.PathValue("id"))
	if err == nil && change != nil {
		err = change(hubID, sp)
	}
	var v *spokeView
	if err == nil {
		v, err = h.loadSpokes(r)
	}
	if err == nil {
		for _, s := range v.all() {
			if s.ID == r.PathValue("id") {
				writeUI(w, r, status, "spoke", s)
				return
			}
		}
		err = fault.New(fault.NotFound, "mesh spoke not found")
	}
	api.Error(w, r, err)
}

func (h *Handlers) meshSpoke(w http.ResponseWriter, r *http.Request) {
	h.oneSpoke(w, r, http.StatusOK, nil)
}

// spokeBody is a spoke as gatekey-admin creates or updates it.
type spokeBody struct {
	GatewayID      string `json:"gateway_id"`
	HubID          string `json:"hub_id"`
	SpokeNetwork   string `json:"spoke_network"`
	SessionEnabled *bool  `json:"session_enabled"`
}

func (h *Handlers) createSpoke(w http.ResponseWriter, r *http.Request) {
	var in spokeBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	switch {
	case in.HubID == "":
		api.Error(w, r, fault.New(fault.Invalid, "hub_id is required").WithDetails(map[string]any{"field": "hub_id"}))
		return
	case in.GatewayID == "":
		api.Error(w, r, fault.New(fault.Invalid, "gateway_id is required").WithDetails(map[string]any{"field": "gateway_id"}))
		return
	}
	var cidrs []string
	if in.SpokeNetwork != "" {
		cidrs = []string{in.SpokeNetwork}
	}
	if err := checkCIDRs("spoke_network", cidrs); err != nil {
		api.Error(w, r, err)
		return
	}
	h.joinSpoke(w, r, in.HubID, in.GatewayID)
}

// checkCIDRs refuses (invalid, naming field) networks a hub or spoke
// request gives that are not all CIDRs; they are not kept (spokes route
// their gateway's networks).
func checkCIDRs(field string, cidrs []string) error {
	for _, c := range cidrs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return fault.Errorf(fault.Invalid, "%s: %q is not a CIDR", field, c).WithDetails(map[string]any{"field": field})
		}
	}
	return nil
}

// joinSpoke adds gateway gatewayID to hub hubID's spokes and answers the
// new spoke (201).
func (h *Handlers) joinSpoke(w http.ResponseWriter, r *http.Request, hubID, gatewayID string) {
	hub, err := h.Gateways.AddSpoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), hubID,
		gateway.Spoke{Kind: gateway.SpokeGateway, ID: gatewayID})
	var v *spokeView
	if err == nil {
		v, err = h.loadSpokes(r)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeUI(w, r, http.StatusCreated, "spoke", v.spoke(hub, gatewayID))
}

// updateSpoke accepts gatekey-admin's only change, session_enabled, which
// has no effect here, and answers the spoke.
func (h *Handlers) updateSpoke(w http.ResponseWriter, r *http.Request) {
	var in spokeBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	h.oneSpoke(w, r, http.StatusOK, nil)
}

func (h *Handlers) deleteSpoke(w http.ResponseWriter, r *http.Request) {
	hubID, sp, err := spokeID(r.PathValue("id"))
	if err == nil {
		_, err = h.Gateways.RemoveSpoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), hubID, sp)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, r.PathValue("id"))
}
