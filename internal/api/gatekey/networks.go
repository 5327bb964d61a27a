package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
)

type networkBody struct {
	GroupID     *int64    `json:"group_id"`
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	CIDR        *string   `json:"cidr"`
	GatewayIDs  *[]string `json:"gateway_ids"`
	// GatewayID is gatekey-admin's spelling: one gateway ("" for none).
	GatewayID *string `json:"gateway_id"`
}

func (b networkBody) input() gateway.NetworkInput {
	ids := b.GatewayIDs
	if ids == nil && b.GatewayID != nil {
		one := []string{}
		if *b.GatewayID != "" {
			one = append(one, *b.GatewayID)
		}
		ids = &one
	}
	return gateway.NetworkInput{GroupID: b.GroupID, Name: b.Name, Description: b.Description, CIDR: b.CIDR, GatewayIDs: ids}
}

func (h *Handlers) networks(w http.ResponseWriter, r *http.Request) {
	nets, err := h.Gateways.Networks(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "networks", nets, networkOf)
}

func (h *Handlers) network(w http.ResponseWriter, r *http.Request) {
	n, err := h.Gateways.Network(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, networkOf(n))
}

func (h *Handlers) createNetwork(w http.ResponseWriter, r *http.Request) {
	var in networkBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	n, err := h.Gateways.CreateNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusCreated, networkOf(n))
}

func (h *Handlers) updateNetwork(w http.ResponseWriter, r *http.Request) {
	var in networkBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	n, err := h.Gateways.UpdateNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, networkOf(n))
}

func (h *Handlers) deleteNetwork(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.Gateways.DeleteNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, id)
}
