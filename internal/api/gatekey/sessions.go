package gatekey

import (
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// sessions lists VPN sessions, newest first: ?gateway_id= selects one
// gateway, ?active=true only open sessions; page and per_page as elsewhere.
func (h *Handlers) sessions(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := pageOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	q := gateway.SessionQuery{GatewayID: r.URL.Query().Get("gateway_id"), Limit: perPage, Offset: (page - 1) * perPage}
	if s := r.URL.Query().Get("active"); s != "" {
		if q.ActiveOnly, err = strconv.ParseBool(s); err != nil {
			api.Error(w, r, fault.New(fault.Invalid, "active must be true or false").WithDetails(map[string]any{"field": "active"}))
			return
		}
	}
	list, total, err := h.Gateways.Sessions(r.Context(), api.PrincipalFrom(r.Context()), q)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]sessionJSON, len(list))
	for i, s := range list {
		out[i] = sessionOf(s)
	}
	writeList(w, r, "sessions", out, total, page, perPage)
}
