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
	// "IP-based (local) or JWT with access:admin scope".
	rt.HandleFunc("GET /api/v1/apikeys", api.Local, keys.List)
	rt.HandleFunc("POST /api/v1/apikeys", api.Local, h.createKey)
	rt.HandleFunc("GET /api/v1/apikeys/{keyId}", api.Local, keys.Get)
	rt.HandleFunc("DELETE /api/v1/apikeys/{keyId}", api.Local, keys.Delete)

	// QR pairing and devices (Handlers.Devices).
	if h.Devices == nil {
		return
	}
	rt.Handle("GET /api/v1/auth/qr", api.Local, h.limit(LimitQR, h.qr))
	rt.Handle("POST /api/v1/pair", api.Public, h.limitPairing(h.redeem))
	rt.Handle("GET /api/v1/pair/{code}", api.Public, h.limitPairing(h.redeem))
	rt.Handle("POST /api/v1/auth/pair", api.Public, h.limit(LimitAuth, h.pair))
	rt.Handle("GET /api/v1/devices", api.Local, h.limit(LimitDevices, h.listDevices))
	rt.Handle("GET /api/v1/devices/{deviceId}", api.Local, h.limit(LimitDevices, h.getDevice))
	rt.Handle("PATCH /api/v1/devices/{deviceId}", api.Local, h.limit(LimitDevices, h.updateDevice))
	rt.Handle("DELETE /api/v1/devices/{deviceId}", api.Local, h.limit(LimitDevices, h.revokeDevice))
	rt.Handle("GET /api/v1/session-cookies", api.Authenticated, h.limit(LimitGeneral, h.listSessionCookies))
	rt.Handle("DELETE /api/v1/session-cookies", api.Authenticated, h.limit(LimitGeneral, h.clearSessionCookies))
	rt.Handle("DELETE /api/v1/session-cookies/{appId}", api.Authenticated, h.limit(LimitGeneral, h.clearSessionCookies))
}
