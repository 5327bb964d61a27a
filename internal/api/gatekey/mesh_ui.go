package gatekey

import (
	"encoding/json"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// The mesh paths GateKey's web UI calls besides gatekey-admin's: a hub's
// spokes nested under it (/api/v1/admin/mesh/hubs/{id}/spokes). The UI
// reads objects under a name ({"spoke": {...}}, {"spokes": [...]}) or,
// for provisioning, at the top level; the seed documents none of these
// routes. Objects carry both the admin CLI's and the UI's field names
// (meshSpokeJSON).

// writeUI answers an object of a route GateKey's web UI calls. GateKey's
// own programs (api.GateKeyProgram) get the bare object, as writeData;
// any other client gets the seed's {"data": {...}} and, beside it, what
// the UI reads: the object under key, or its fields at the top level when
// key is "".
func writeUI[T any](w http.ResponseWriter, r *http.Request, status int, key string, v T) {
	if api.GateKeyProgram(r) {
		api.WriteJSON(w, status, v)
		return
	}
	out := map[string]any{"data": v}
	if key != "" {
		out[key] = v
		api.WriteJSON(w, status, out)
		return
	}
	var fields map[string]json.RawMessage
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, &fields)
	}
	if err != nil { // v is one of this package's response structs: never
		api.Error(w, r, err)
		return
	}
	for k, f := range fields {
		out[k] = f
	}
	api.WriteJSON(w, status, out)
}

// hubSpokes lists a hub's gateway spokes: {"spokes": [...]} for every
// client (the UI's name), with the seed's data and meta beside it.
func (h *Handlers) hubSpokes(w http.ResponseWriter, r *http.Request) {
	hub, err := h.Gateways.AdminHub(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	var v *spokeView
	if err == nil {
		v, err = h.loadSpokes(r)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var spokes []meshSpokeJSON
	for _, s := range v.all() {
		if s.HubID == hub.ID {
			spokes = append(spokes, s)
		}
	}
	spokes = orEmpty(spokes)
	api.WriteJSON(w, http.StatusOK, map[string]any{"spokes": spokes, "data": spokes,
		"meta": listMeta{Total: len(spokes), Page: 1, PerPage: len(spokes)}, "total": len(spokes)})
}

// hubSpokeBody is a spoke as the UI creates it under a hub: name (of the
// spoke's gateway), description, localNetworks, sessionEnabled; or
// gateway_id as gatekey-admin names it. description and sessionEnabled are
// accepted and not kept (the gateway keeps its own description; remote
// sessions reach every connected agent); localNetworks must be CIDRs and are not kept, as
// spoke_network (spokes.go).
type hubSpokeBody struct {
	GatewayID      string   `json:"gateway_id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	LocalNetworks  []string `json:"localNetworks"`
	SessionEnabled *bool    `json:"sessionEnabled"`
}

// createHubSpoke joins a gateway of the hub's group to the hub as a
// spoke: the one gateway_id names, else the one called name. A GateKey
// spoke is a host with a token of its own; in netkeep it is a gateway, so
// the gateway comes first (POST /api/v1/admin/gateways) and its token is
// not shown here (mesh spoke provision issues a new one).
func (h *Handlers) createHubSpoke(w http.ResponseWriter, r *http.Request) {
	var in hubSpokeBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if err := checkCIDRs("localNetworks", in.LocalNetworks); err != nil {
		api.Error(w, r, err)
		return
	}
	if in.GatewayID == "" && in.Name == "" {
		api.Error(w, r, fault.New(fault.Invalid, "name (the spoke's gateway) is required").WithDetails(map[string]any{"field": "name"}))
		return
	}
	hub, err := h.Gateways.AdminHub(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err == nil && in.GatewayID == "" {
		var v *spokeView
		if v, err = h.loadSpokes(r); err == nil {
			in.GatewayID, err = v.gatewayNamed(hub.GroupID, in.Name)
		}
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.joinSpoke(w, r, hub.ID, in.GatewayID)
}

// gatewayNamed is the id of the gateway of groupID called name.
func (v *spokeView) gatewayNamed(groupID int64, name string) (string, error) {
	for _, g := range v.gateways {
		if g.GroupID == groupID && g.Name == name {
			return g.ID, nil
		}
	}
	return "", fault.Errorf(fault.NotFound, "no gateway named %q: create the spoke's gateway first", name).
		WithDetails(map[string]any{"field": "name"})
}
