package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
)

// hubBody is a mesh hub as a request gives it; spokes are
// {"type": "gateway"|"network", "id"}. gatekey-admin's mesh hub create
// sends no name, and hub_network, which must be a CIDR and is not kept
// (the hub routes its spokes' networks); from GateKey's programs such a
// hub is named after its gateway (other clients must name it).
type hubBody struct {
	GroupID     *int64  `json:"group_id"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	GatewayID   *string `json:"gateway_id"`
	HubNetwork  *string `json:"hub_network"`
	Spokes      *[]struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"spokes"`
}

func (b hubBody) input() gateway.HubInput {
	in := gateway.HubInput{GroupID: b.GroupID, Name: b.Name, Description: b.Description, GatewayID: b.GatewayID}
	if b.Spokes != nil {
		spokes := make([]gateway.Spoke, len(*b.Spokes))
		for i, sp := range *b.Spokes {
			spokes[i] = gateway.Spoke{Kind: gateway.SpokeKind(sp.Type), ID: sp.ID}
		}
		in.Spokes = &spokes
	}
	return in
}

// usableHubs lists the hubs whose hub gateway the caller may use.
func (h *Handlers) usableHubs(w http.ResponseWriter, r *http.Request) {
	hubs, err := h.Gateways.UsableHubs(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "hubs", hubs, hubOf)
}

func (h *Handlers) adminHubs(w http.ResponseWriter, r *http.Request) {
	hubs, err := h.Gateways.AdminHubs(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "hubs", hubs, hubOf)
}

func (h *Handlers) adminHub(w http.ResponseWriter, r *http.Request) {
	hub, err := h.Gateways.AdminHub(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, hubOf(hub))
}

func (h *Handlers) createHub(w http.ResponseWriter, r *http.Request) {
	var in hubBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if in.HubNetwork != nil {
		if err := checkCIDRs("hub_network", []string{*in.HubNetwork}); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	if in.Name == nil && in.GatewayID != nil && api.GateKeyProgram(r) {
		g, err := h.Gateways.AdminGateway(r.Context(), api.PrincipalFrom(r.Context()), *in.GatewayID)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		in.Name = &g.Name
	}
	hub, err := h.Gateways.CreateHub(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusCreated, hubOf(hub))
}

func (h *Handlers) updateHub(w http.ResponseWriter, r *http.Request) {
	var in hubBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	hub, err := h.Gateways.UpdateHub(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, hubOf(hub))
}

func (h *Handlers) deleteHub(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.Gateways.DeleteHub(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, id)
}
