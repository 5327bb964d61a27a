package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
)

// gatewayBody is a gateway as a request gives it; absent fields keep their
// value on PUT and take their default on POST.
type gatewayBody struct {
	GroupID     *int64  `json:"group_id"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Hostname    *string `json:"hostname"`
	Port        *int    `json:"port"`
	Protocol    *string `json:"protocol"`
	VPNType     *string `json:"vpn_type"`
	VPNSubnet   *string `json:"vpn_subnet"`
	// Endpoint is gatekey-admin's spelling of hostname.
	Endpoint *string `json:"endpoint"`
}

func (b gatewayBody) input() gateway.GatewayInput {
	host := b.Hostname
	if host == nil {
		host = b.Endpoint
	}
	return gateway.GatewayInput{GroupID: b.GroupID, Name: b.Name, Description: b.Description, Hostname: host,
		Port: b.Port, Protocol: b.Protocol, VPNType: b.VPNType, VPNSubnet: b.VPNSubnet}
}

// usableGateways lists the gateways the caller may connect through.
func (h *Handlers) usableGateways(w http.ResponseWriter, r *http.Request) {
	gws, err := h.Gateways.UsableGateways(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	now := h.now()
	writePage(w, r, "gateways", gws, func(g *gateway.Gateway) gatewayJSON { return gatewayOf(g, now) })
}

func (h *Handlers) adminGateways(w http.ResponseWriter, r *http.Request) {
	gws, err := h.Gateways.AdminGateways(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	now := h.now()
	writePage(w, r, "gateways", gws, func(g *gateway.Gateway) adminGatewayJSON { return adminGatewayOf(g, now) })
}

func (h *Handlers) adminGateway(w http.ResponseWriter, r *http.Request) {
	g, err := h.Gateways.AdminGateway(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, adminGatewayOf(g, h.now()))
}

// createGateway answers 201 with the gateway and its token, shown this once.
func (h *Handlers) createGateway(w http.ResponseWriter, r *http.Request) {
	var in gatewayBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := h.Gateways.CreateGateway(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.writeToken(w, r, http.StatusCreated, c)
}

func (h *Handlers) writeToken(w http.ResponseWriter, r *http.Request, status int, c *gateway.Created) {
	w.Header().Set("Cache-Control", "no-store")
	writeData(w, r, status, createdGatewayJSON{adminGatewayJSON: adminGatewayOf(c.Gateway, h.now()), Token: c.Token})
}

func (h *Handlers) updateGateway(w http.ResponseWriter, r *http.Request) {
	var in gatewayBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Gateways.UpdateGateway(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, adminGatewayOf(g, h.now()))
}

// regenerateToken replaces the gateway's token; the old one stops working.
func (h *Handlers) regenerateToken(w http.ResponseWriter, r *http.Request) {
	c, err := h.Gateways.RegenerateToken(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.writeToken(w, r, http.StatusOK, c)
}

func (h *Handlers) deleteGateway(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.Gateways.DeleteGateway(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, id)
}
