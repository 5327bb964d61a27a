package netrecon

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds the dialect's routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.NetRecon)
	// DELETE revokes, as the seed documents (?permanent=true deletes).
	keys := api.KeyRoutes[keyView]{Keys: h.Keys, View: viewKey, Param: "key_id"}
	rt.HandleFunc("GET /api/v1/api-keys", api.Authenticated, keys.List)
	rt.HandleFunc("POST /api/v1/api-keys", api.Authenticated, h.createKey)
	rt.HandleFunc("GET /api/v1/api-keys/{key_id}", api.Authenticated, keys.Get)
	rt.HandleFunc("DELETE /api/v1/api-keys/{key_id}", api.Authenticated, keys.Delete)

	// OAuth2 authorization server: the seed's /authorize and /token, the
	// OpenID endpoints beside them (op answers each in RFC 6749 / 7009 /
	// 7662 form), the sign-in and consent pages, and the client registry.
	if o := h.OAuth2; o != nil {
		proto := o.Provider.Protocol()
		rt.Handle("GET /api/v1/auth/oauth2/authorize", api.Public, proto)
		rt.Handle("GET /api/v1/auth/oauth2/authorize/callback", api.Public, proto)
		rt.Handle("POST /api/v1/auth/oauth2/token", api.Public, proto)
		rt.Handle("GET /api/v1/auth/oauth2/userinfo", api.Public, proto)
		rt.Handle("POST /api/v1/auth/oauth2/userinfo", api.Public, proto)
		rt.Handle("POST /api/v1/auth/oauth2/revoke", api.Public, proto)
		rt.Handle("POST /api/v1/auth/oauth2/introspect", api.Public, proto)
		rt.Handle("GET /api/v1/auth/oauth2/logout", api.Public, proto)
		rt.Handle("GET /api/v1/auth/oauth2/consent", api.Public, o.Auth.Optional(http.HandlerFunc(o.Provider.Consent)))
		rt.Handle("POST /api/v1/auth/oauth2/consent", api.Public, o.Auth.Optional(http.HandlerFunc(o.Provider.Decide)))
		rt.HandleFunc("GET /api/v1/auth/oauth2/login", api.Public, o.Provider.LoginPage)
		rt.Handle("POST /api/v1/auth/oauth2/login", api.Public, api.LimitIP(h.Limiter, "auth", api.LoginLimit, http.HandlerFunc(o.Provider.Login)))
		rt.HandleFunc("GET /api/v1/auth/oauth2/clients", api.Authenticated, o.listClients)
		rt.HandleFunc("POST /api/v1/auth/oauth2/clients", api.Authenticated, o.createClient)
		rt.HandleFunc("GET /api/v1/auth/oauth2/clients/{client_id}", api.Authenticated, o.getClient)
		rt.HandleFunc("DELETE /api/v1/auth/oauth2/clients/{client_id}", api.Authenticated, o.deleteClient)
	}
}
