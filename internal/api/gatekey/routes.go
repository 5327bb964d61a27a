package gatekey

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds the dialect's routes. POST /api/v1/auth/logout, which GateKey
// also lists, is the Nekzus handler: it revokes the bearer's session.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.GateKey)
	rt.Handle("POST /api/v1/auth/local/login", api.Public, api.LimitIP(h.AuthLimiter, "auth", api.LoginLimit, http.HandlerFunc(h.localLogin)))
	rt.HandleFunc("GET /api/v1/auth/session", api.Authenticated, h.session)
	// The admin API shares one per-user budget (AdminLimit).
	rt.Handle("GET /api/v1/admin/users", api.Authenticated,
		api.LimitPrincipal(h.AuthLimiter, "gatekey-admin", AdminLimit, http.HandlerFunc(h.adminUsers)))
}
