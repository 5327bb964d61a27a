package netkey

import (
	"encoding/json"
	"fmt"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/psk"
)

// listEndpoints: {"endpoints": [...], "total": N}. Query: limit, offset,
// psk_id (numeric), enabled, search (MAC or description), group_id (super
// principals).
func (h *Handlers) listEndpoints(w http.ResponseWriter, r *http.Request) {
	q := &query{r: r}
	f := psk.EndpointFilter{
		Limit:   q.int("limit", psk.DefaultLimit, 1, psk.MaxLimit),
		Offset:  q.int("offset", 0, 0, 1<<31-1),
		PSKID:   q.int64("psk_id"),
		Enabled: q.bool("enabled"),
		Search:  r.URL.Query().Get("search"),
		GroupID: q.int64("group_id"),
	}
	if q.err != nil {
		api.Error(w, r, q.err)
		return
	}
	page, err := h.PSKs.ListEndpoints(r.Context(), api.PrincipalFrom(r.Context()), f)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, endpointListJSON{Endpoints: newEndpointsJSON(page.Endpoints), Total: page.Total})
}

func (h *Handlers) getEndpoint(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, psk.EndpointNotFound)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	e, err := h.PSKs.GetEndpoint(r.Context(), api.PrincipalFrom(r.Context()), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, newEndpointJSON(e))
}

func (h *Handlers) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var b endpointBody
	if err := api.Decode(r, &b); err != nil {
		api.Error(w, r, err)
		return
	}
	in, err := b.newEndpoint()
	if err != nil {
		api.Error(w, r, err)
		return
	}
	e, err := h.PSKs.CreateEndpoint(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), b.GroupID, in)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, newEndpointJSON(e))
}

// bulkEndpoints creates up to 1,000 endpoints in one transaction.
func (h *Handlers) bulkEndpoints(w http.ResponseWriter, r *http.Request) {
	raw, groupID, err := bulkItems(r, "endpoints")
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if len(raw) > psk.MaxBulk {
		api.Error(w, r, invalidField("endpoints", fmt.Sprintf("at most %d endpoints per request", psk.MaxBulk)))
		return
	}
	items := make([]psk.NewEndpoint, len(raw))
	for i, b := range raw {
		var in endpointBody
		if err := json.Unmarshal(b, &in); err != nil {
			api.Error(w, r, itemErr(i, err))
			return
		}
		if items[i], err = in.newEndpoint(); err != nil {
			api.Error(w, r, itemErr(i, err))
			return
		}
	}
	created, err := h.PSKs.CreateEndpointsBulk(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), groupID, items)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, endpointBulkJSON{Success: true, Created: len(created), Endpoints: newEndpointsJSON(created)})
}

// updateEndpoint changes the fields present in the body; vlan_id may be
// null to remove the override.
func (h *Handlers) updateEndpoint(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, psk.EndpointNotFound)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		MAC         *string         `json:"mac_address"`
		Description *string         `json:"description"`
		PSKID       json.RawMessage `json:"psk_id"`
		VLANID      json.RawMessage `json:"vlan_id"`
		Enabled     *bool           `json:"enabled"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	patch := psk.EndpointPatch{MAC: in.MAC, Description: in.Description, Enabled: in.Enabled}
	if patch.PSK, err = pskRef(in.PSKID); err != nil {
		api.Error(w, r, err)
		return
	}
	if patch.VLANID, patch.ClearVLAN, err = optionalInt(in.VLANID, "vlan_id"); err != nil {
		api.Error(w, r, err)
		return
	}
	e, err := h.PSKs.UpdateEndpoint(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, patch)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, newEndpointJSON(e))
}

func (h *Handlers) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, psk.EndpointNotFound)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.PSKs.DeleteEndpoint(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, deletedJSON{Success: true, DeletedID: id})
}
