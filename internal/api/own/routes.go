package own

import "netkeep/internal/api"

// Register adds the routes. It panics if openapi.yaml does not convert (a
// build defect; openapi_test.go catches it first).
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.Own)
	doc, err := OpenAPIDocument()
	if err != nil {
		panic(err)
	}
	rt.Handle("GET "+OpenAPIPath, api.Public, doc)
	rt.HandleFunc("GET /api/v1/groups", api.Authenticated, h.listGroups)
	rt.HandleFunc("POST /api/v1/groups", api.Authenticated, h.createGroup)
	rt.HandleFunc("GET /api/v1/groups/{id}", api.Authenticated, h.getGroup)
	rt.HandleFunc("PUT /api/v1/groups/{id}", api.Authenticated, h.renameGroup)
	rt.HandleFunc("DELETE /api/v1/groups/{id}", api.Authenticated, h.deleteGroup)

	if h.Offboard != nil {
		rt.HandleFunc("GET /api/v1/users/{id}/access", api.Authenticated, h.userAccess)
		rt.HandleFunc("POST /api/v1/users/{id}/offboard", api.Authenticated, h.offboardUser)
		rt.HandleFunc("POST /api/v1/offboard/devices/{id}", api.Authenticated, h.offboardDevice)
		rt.HandleFunc("POST /api/v1/offboard/nodes/{network}/{mac}", api.Authenticated, h.offboardNode)
	}

	if s := h.SSO; s != nil {
		rt.Handle("GET /.well-known/openid-configuration", api.Public, s.OpenID)
		rt.Handle("GET /.well-known/jwks.json", api.Public, s.OpenID)
		rt.HandleFunc("GET /api/v1/sso/providers", api.Authenticated, s.listProviders)
		rt.HandleFunc("POST /api/v1/sso/providers", api.Authenticated, s.createProvider)
		rt.HandleFunc("GET /api/v1/sso/providers/{name}", api.Authenticated, s.getProvider)
		rt.HandleFunc("PUT /api/v1/sso/providers/{name}", api.Authenticated, s.updateProvider)
		rt.HandleFunc("DELETE /api/v1/sso/providers/{name}", api.Authenticated, s.deleteProvider)
	}
}
