package netkey

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds every NetKey route: sign-in (rate limited per source IP),
// MFA, users, PSKs, endpoints and RADIUS clients and sessions. Every route
// but sign-in needs a credential; what it may do is decided in the domain.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.NetKey)
	signIn := func(f http.HandlerFunc) http.Handler { return api.SignIn(h.AuthLimiter, h.LoginFailures, f) }
	rt.Handle("POST /api/auth/login", api.Public, signIn(h.login))
	rt.Handle("POST /api/auth/refresh", api.Public, signIn(h.refresh))
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

	rt.HandleFunc("GET /api/v1/psks", api.Authenticated, h.listPSKs)
	rt.HandleFunc("POST /api/v1/psks", api.Authenticated, h.createPSK)
	rt.HandleFunc("POST /api/v1/psks/bulk", api.Authenticated, h.bulkPSKs)
	rt.HandleFunc("POST /api/v1/psks/import", api.Authenticated, h.importPSKs) // own body limit and upload deadline
	rt.HandleFunc("GET /api/v1/psks/export", api.Authenticated, h.exportPSKs)
	rt.HandleFunc("GET /api/v1/psks/{id}", api.Authenticated, h.getPSK)
	rt.HandleFunc("PUT /api/v1/psks/{id}", api.Authenticated, h.updatePSK)
	rt.HandleFunc("DELETE /api/v1/psks/{id}", api.Authenticated, h.deletePSK)

	rt.HandleFunc("GET /api/v1/endpoints", api.Authenticated, h.listEndpoints)
	rt.HandleFunc("POST /api/v1/endpoints", api.Authenticated, h.createEndpoint)
	rt.HandleFunc("POST /api/v1/endpoints/bulk", api.Authenticated, h.bulkEndpoints)
	rt.HandleFunc("GET /api/v1/endpoints/{id}", api.Authenticated, h.getEndpoint)
	rt.HandleFunc("PUT /api/v1/endpoints/{id}", api.Authenticated, h.updateEndpoint)
	rt.HandleFunc("DELETE /api/v1/endpoints/{id}", api.Authenticated, h.deleteEndpoint)

	rt.HandleFunc("GET /api/v1/radius/clients", api.Authenticated, h.listClients)
	rt.HandleFunc("POST /api/v1/radius/clients", api.Authenticated, h.createClient)
	rt.HandleFunc("GET /api/v1/radius/clients/{id}", api.Authenticated, h.getClient)
	rt.HandleFunc("PUT /api/v1/radius/clients/{id}", api.Authenticated, h.updateClient)
	rt.HandleFunc("DELETE /api/v1/radius/clients/{id}", api.Authenticated, h.deleteClient)
	rt.HandleFunc("GET /api/v1/radius/sessions", api.Authenticated, h.listSessions)
	rt.HandleFunc("POST /api/v1/radius/sessions/disconnect", api.Authenticated, h.disconnectSessions)
}
