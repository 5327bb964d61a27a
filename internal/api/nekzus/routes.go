package nekzus

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds the dialect's routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.Nekzus)
	limited := func(f http.HandlerFunc) http.Handler {
		return api.LimitIP(h.AuthLimiter, "auth", api.LoginLimit, f)
	}
	rt.Handle("GET /api/v1/auth/setup-status", api.Public, limited(h.setupStatus))
	rt.Handle("POST /api/v1/auth/setup", api.Public, limited(h.setup))
	rt.Handle("POST /api/v1/auth/login", api.Public, limited(h.login))
	rt.Handle("POST /api/v1/auth/refresh", api.Public, limited(h.refresh))
	rt.HandleFunc("GET /api/v1/auth/me", api.Authenticated, h.me)
	rt.HandleFunc("POST /api/v1/auth/logout", api.Authenticated, h.logout)
	rt.HandleFunc("GET /api/v1/audit-logs", api.Authenticated, h.auditLogs)

	keys := api.KeyRoutes[keyView]{Keys: h.Keys, View: viewKey, Param: "keyId"}
	rt.HandleFunc("GET /api/v1/apikeys", api.Authenticated, keys.List)
	rt.HandleFunc("POST /api/v1/apikeys", api.Authenticated, h.createKey)
	rt.HandleFunc("GET /api/v1/apikeys/{keyId}", api.Authenticated, keys.Get)
	rt.HandleFunc("DELETE /api/v1/apikeys/{keyId}", api.Authenticated, keys.Delete)

	// The live side: the stream authenticates in its first message.
	rt.Handle("GET /api/v1/ws", api.Public, api.LimitIP(h.Live.Limiter, "ws", WSLimit, http.HandlerFunc(h.Live.ws)))
	rt.HandleFunc("GET /api/v1/activity/recent", api.Authenticated, h.Live.recentActivity)
	rt.HandleFunc("GET /api/v1/stats", api.Authenticated, h.Live.statsSummary)
	rt.HandleFunc("GET /api/v1/stats/quick", api.Authenticated, h.Live.quickStats)
	rt.HandleFunc("GET /api/v1/admin/info", api.Authenticated, h.Live.adminInfo)
	rt.HandleFunc("POST /api/v1/webhooks/activity", api.Authenticated, h.Live.webhookActivity)
	rt.HandleFunc("POST /api/v1/webhooks/notify", api.Authenticated, h.Live.webhookNotify)
}
