package netmaker

import (
	"net/http"

	"netkeep/internal/api"
)

// The Netmaker dialect's routes (seed 001), all of them, with who may call
// each: Public needs no credential, Authenticated any valid credential
// (finer checks in the domain), Custom authenticates in its handler (a
// node JWT or an administrator via nodeOrUser; an access key or an
// administrator on join). The handlers are split between Handlers (users)
// and MeshHandlers (networks, keys, nodes, server, files), which the server
// builds with their own dependencies.

// Register adds the Users API routes.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.Netmaker)
	limited := func(family string, f http.Handler) http.Handler {
		return api.LimitIP(h.AuthLimiter, family, api.LoginLimit, f)
	}
	rt.Handle("GET /api/users/adm/hasadmin", api.Public, limited("setup", http.HandlerFunc(h.hasAdmin)))
	rt.Handle("POST /api/users/adm/createadmin", api.Public, api.SignIn(h.AuthLimiter, h.LoginFailures, h.Auth.Optional(http.HandlerFunc(h.createAdmin))))
	rt.Handle("POST /api/users/adm/authenticate", api.Public, api.SignIn(h.AuthLimiter, h.LoginFailures, http.HandlerFunc(h.authenticate)))

	rt.HandleFunc("GET /api/users/{username}", api.Authenticated, h.getUser)
	rt.HandleFunc("PUT /api/users/{username}", api.Authenticated, h.updateUser)
	rt.HandleFunc("DELETE /api/users/{username}", api.Authenticated, h.deleteUser)
}

// Register adds the mesh routes.
func (h *MeshHandlers) Register(rt *api.Router) {
	rt = rt.As(api.Netmaker)
	// Networks.
	rt.HandleFunc("GET /api/networks", api.Authenticated, h.listNetworks)
	rt.HandleFunc("POST /api/networks", api.Authenticated, h.createNetwork)
	rt.HandleFunc("POST /api/network", api.Authenticated, h.createNetwork)
	rt.HandleFunc("GET /api/networks/{netid}", api.Authenticated, h.getNetwork)
	rt.HandleFunc("PUT /api/networks/{netid}", api.Authenticated, h.updateNetwork)
	rt.HandleFunc("DELETE /api/networks/{netid}", api.Authenticated, h.deleteNetwork)
	rt.HandleFunc("POST /api/networks/{netid}/keyupdate", api.Authenticated, h.keyUpdate)
	// Access keys.
	rt.HandleFunc("GET /api/networks/{netid}/keys", api.Authenticated, h.listKeys)
	rt.HandleFunc("POST /api/networks/{netid}/keys", api.Authenticated, h.createKey)
	rt.HandleFunc("DELETE /api/networks/{netid}/keys/{keyname}", api.Authenticated, h.deleteKey)
	// Nodes.
	rt.HandleFunc("GET /api/nodes", api.Authenticated, h.listNodes)
	rt.HandleFunc("GET /api/nodes/{network}", api.Authenticated, h.listNodes)
	rt.Handle("POST /api/nodes/{network}", api.Custom, h.Auth.Optional(http.HandlerFunc(h.join)))
	rt.Handle("GET /api/nodes/{network}/{macaddress}", api.Custom, h.nodeOrUser(h.getNode))
	rt.Handle("PUT /api/nodes/{network}/{macaddress}", api.Custom, h.nodeOrUser(h.updateNode))
	rt.Handle("DELETE /api/nodes/{network}/{macaddress}", api.Custom, h.nodeOrUser(h.deleteNode))
	rt.Handle("POST /api/nodes/{network}/{macaddress}/checkin", api.Custom, h.nodeOrUser(h.checkIn))
	rt.Handle("GET /api/nodes/{network}/{macaddress}/peers", api.Custom, h.nodeOrUser(h.peers))
	rt.Handle("GET /api/nodes/{network}/{macaddress}/config", api.Custom, h.nodeOrUser(h.config))
	rt.Handle("GET /api/nodes/{network}/{macaddress}/stream", api.Custom, h.nodeOrUser(h.stream))
	rt.HandleFunc("POST /api/nodes/{network}/{macaddress}/creategateway", api.Authenticated, h.createGateway)
	rt.HandleFunc("DELETE /api/nodes/{network}/{macaddress}/deletegateway", api.Authenticated, h.deleteGateway)
	rt.HandleFunc("POST /api/nodes/{network}/{macaddress}/approve", api.Authenticated, h.approve)
	rt.HandleFunc("POST /api/nodes/{network}/{macaddress}/uncordon", api.Authenticated, h.approve)
	rt.Handle("GET /api/nodes/adm/{network}/lastmodified", api.Custom, h.nodeOrUser(h.lastModified))
	// Node passwords: limited per source IP here, and per node in the domain.
	rt.Handle("POST /api/nodes/adm/{network}/authenticate", api.Public,
		api.LimitIP(h.AuthLimiter, "node-auth", nodeAuthLimit, http.HandlerFunc(h.authenticateNode)))
	// Server management.
	rt.HandleFunc("POST /api/server/addnetwork/{netid}", api.Authenticated, h.addServer)
	rt.HandleFunc("DELETE /api/server/removenetwork/{netid}", api.Authenticated, h.removeServer)
	// File server.
	rt.HandleFunc("GET /meshclient/files/{filename}", api.Public, h.file)
}
