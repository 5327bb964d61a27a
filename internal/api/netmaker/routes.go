package netmaker

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds the dialect's routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.Netmaker)
	limited := func(family string, f http.Handler) http.Handler {
		return api.LimitIP(h.AuthLimiter, family, api.LoginLimit, f)
	}
	rt.Handle("GET /api/users/adm/hasadmin", api.Public, limited("setup", http.HandlerFunc(h.hasAdmin)))
	rt.Handle("POST /api/users/adm/createadmin", api.Public, limited("auth", h.Auth.Optional(http.HandlerFunc(h.createAdmin))))
	rt.Handle("POST /api/users/adm/authenticate", api.Public, limited("auth", http.HandlerFunc(h.authenticate)))

	rt.HandleFunc("GET /api/users/{username}", api.Authenticated, h.getUser)
	rt.HandleFunc("PUT /api/users/{username}", api.Authenticated, h.updateUser)
	rt.HandleFunc("DELETE /api/users/{username}", api.Authenticated, h.deleteUser)
}
