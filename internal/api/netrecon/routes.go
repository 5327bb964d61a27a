package netrecon

import "netkeep/internal/api"

// Register adds the dialect's routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.NetRecon)
	rt.HandleFunc("GET /api/v1/api-keys", api.Authenticated, h.listKeys)
	rt.HandleFunc("POST /api/v1/api-keys", api.Authenticated, h.createKey)
	rt.HandleFunc("GET /api/v1/api-keys/{key_id}", api.Authenticated, h.getKey)
	rt.HandleFunc("DELETE /api/v1/api-keys/{key_id}", api.Authenticated, h.deleteKey)
}
