package netrecon

import "netkeep/internal/api"

// Register adds the dialect's routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.NetRecon)
	// DELETE revokes, as the seed documents (?permanent=true deletes).
	keys := api.KeyRoutes[keyView]{Keys: h.Keys, View: viewKey, Param: "key_id"}
	rt.HandleFunc("GET /api/v1/api-keys", api.Authenticated, keys.List)
	rt.HandleFunc("POST /api/v1/api-keys", api.Authenticated, h.createKey)
	rt.HandleFunc("GET /api/v1/api-keys/{key_id}", api.Authenticated, keys.Get)
	rt.HandleFunc("DELETE /api/v1/api-keys/{key_id}", api.Authenticated, keys.Delete)
}
