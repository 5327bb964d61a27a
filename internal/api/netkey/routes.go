package netkey

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds the dialect's routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.NetKey)
	limited := func(f http.HandlerFunc) http.Handler {
		return api.LimitIP(h.AuthLimiter, "auth", api.LoginLimit, f)
	}
	rt.Handle("POST /api/auth/login", api.Public, limited(h.login))
	rt.Handle("POST /api/auth/refresh", api.Public, limited(h.refresh))
	rt.HandleFunc("POST /api/auth/logout", api.Authenticated, h.logout)
	rt.HandleFunc("GET /api/auth/me", api.Authenticated, h.me)

	rt.HandleFunc("POST /api/auth/mfa/setup", api.Authenticated, h.mfaSetup)
	rt.HandleFunc("POST /api/auth/mfa/enable", api.Authenticated, h.mfaEnable)
	rt.HandleFunc("POST /api/auth/mfa/disable", api.Authenticated, h.mfaDisable)

	rt.HandleFunc("GET /api/v1/users", api.Authenticated, h.listUsers)
	rt.HandleFunc("POST /api/v1/users", api.Authenticated, h.createUser)
	rt.HandleFunc("GET /api/v1/users/{id}", api.Authenticated, h.getUser)
	rt.HandleFunc("PUT /api/v1/users/{id}", api.Authenticated, h.updateUser)
	rt.HandleFunc("DELETE /api/v1/users/{id}", api.Authenticated, h.deleteUser)
}
