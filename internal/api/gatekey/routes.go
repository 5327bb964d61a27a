package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
)

// Register adds every GateKey route with its access level and rate limit,
// in the seed's order: user, admin, gateway-internal and PKI endpoints,
// then the OpenAPI document. The budgets are the seed's table: login 50/min
// per IP, config generation 30/min per user, admin operations 100/min per
// user (one budget for the whole admin API), heartbeats 120/min per gateway.
// POST /api/v1/auth/logout, which the seed also lists, is the Nekzus
// handler: it revokes the bearer's session.
//
// The embedded OpenAPI document is converted here, once; a malformed
// document is a programming error and panics at wiring time
// (openapi_test.go catches it first).
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.GateKey)
	doc, err := OpenAPIDocument()
	if err != nil {
		panic(err)
	}
	h.openAPIDoc = doc

	login := func(fn http.HandlerFunc) http.Handler { return api.LimitIP(h.Limiter, "auth", api.LoginLimit, fn) }
	generation := func(fn http.HandlerFunc) http.Handler {
		return api.LimitPrincipal(h.Limiter, "gatekey-configs", ConfigLimit, fn)
	}
	admin := func(fn http.HandlerFunc) http.Handler {
		return api.LimitPrincipal(h.Limiter, "gatekey-admin", AdminLimit, fn)
	}
	heartbeat := h.perGateway("gatekey-heartbeat", HeartbeatLimit, h.heartbeat)

	// User endpoints: any signed-in user, within its group.
	rt.Handle("POST /api/v1/auth/local/login", api.Public, api.SignIn(h.Limiter, h.LoginFailures, http.HandlerFunc(h.localLogin)))
	if s := h.SSO; s != nil {
		rt.Handle("GET /api/v1/auth/oidc/login", api.Public, login(s.oidcLogin))
		rt.Handle("GET /api/v1/auth/oidc/callback", api.Public, login(s.oidcCallback))
		rt.HandleFunc("GET /api/v1/auth/saml/{provider}/metadata", api.Public, s.samlMetadata)
		rt.Handle("GET /api/v1/auth/saml/{provider}/login", api.Public, login(s.samlLogin))
		rt.Handle("POST /api/v1/auth/saml/{provider}/acs", api.Public, login(s.samlACS))
	}
	rt.HandleFunc("GET /api/v1/auth/session", api.Authenticated, h.session)
	rt.HandleFunc("GET /api/v1/auth/providers", api.Public, h.providers)

	// What GateKey's own programs call besides the seed (programs.go,
	// cli.go): the command-line browser login, the API key check, the
	// server's information.
	rt.Handle("GET /api/v1/auth/cli/login", api.Public, login(h.cliLogin))
	rt.Handle("GET /api/v1/auth/cli/complete", api.Public, login(h.cliLogin))
	rt.Handle("POST /api/v1/auth/cli/complete", api.Public, login(h.cliComplete))
	rt.HandleFunc("GET /api/v1/auth/api-key/validate", api.Authenticated, h.validateKey)
	rt.HandleFunc("GET /api/v1/server/info", api.Authenticated, h.serverInfo)
	rt.Handle("POST /api/v1/configs/generate", api.Authenticated, generation(h.generateConfig))
	rt.HandleFunc("GET /api/v1/configs/download/{config_id}", api.Authenticated, h.downloadConfig)
	rt.HandleFunc("GET /api/v1/gateways", api.Authenticated, h.usableGateways)
	rt.HandleFunc("GET /api/v1/mesh/hubs", api.Authenticated, h.usableHubs)

	// Admin endpoints: the domain refuses non-administrators (403).
	rt.Handle("GET /api/v1/admin/users", api.Authenticated, admin(h.adminUsers))
	// gatekey-admin's last commands (admin_commands.go, agent_registry.go).
	rt.Handle("GET /api/v1/admin/users/{id}", api.Authenticated, admin(h.adminUser))
	rt.Handle("POST /api/v1/admin/users/{id}/revoke-configs", api.Authenticated, admin(h.revokeUserConfigs))
	rt.Handle("POST /api/v1/admin/gateways/{id}/reprovision", api.Authenticated, admin(h.reprovisionGateway))
	rt.Handle("GET /api/v1/admin/remote-session/agents", api.Authenticated, admin(h.remoteSessionAgents))
	// gatekey-admin's troubleshoot tools and remote sessions
	// (network_tools.go, admin_session.go): administrators' commands on
	// this server or on a gateway through its agent's channel.
	if h.Remote != nil {
		rt.Handle("GET /api/v1/admin/network-tools", api.Authenticated, admin(h.networkTools))
		rt.Handle("POST /api/v1/admin/network-tools/execute", api.Authenticated, admin(h.runNetworkTool))
		if h.Channel != nil && h.Channel.Bus != nil {
			rt.Handle("GET /ws/admin/session", api.Authenticated, admin(h.adminSession))
		}
	}

	rt.Handle("GET /api/v1/admin/gateways", api.Authenticated, admin(h.adminGateways))
	rt.Handle("POST /api/v1/admin/gateways", api.Authenticated, admin(h.createGateway))
	rt.Handle("GET /api/v1/admin/gateways/{id}", api.Authenticated, admin(h.adminGateway))
	rt.Handle("PUT /api/v1/admin/gateways/{id}", api.Authenticated, admin(h.updateGateway))
	rt.Handle("DELETE /api/v1/admin/gateways/{id}", api.Authenticated, admin(h.deleteGateway))
	rt.Handle("POST /api/v1/admin/gateways/{id}/regenerate-token", api.Authenticated, admin(h.regenerateToken))

	rt.Handle("GET /api/v1/admin/networks", api.Authenticated, admin(h.networks))
	rt.Handle("POST /api/v1/admin/networks", api.Authenticated, admin(h.createNetwork))
	rt.Handle("GET /api/v1/admin/networks/{id}", api.Authenticated, admin(h.network))
	rt.Handle("PUT /api/v1/admin/networks/{id}", api.Authenticated, admin(h.updateNetwork))
	rt.Handle("DELETE /api/v1/admin/networks/{id}", api.Authenticated, admin(h.deleteNetwork))

	rt.Handle("GET /api/v1/admin/access-rules", api.Authenticated, admin(h.rules))
	rt.Handle("POST /api/v1/admin/access-rules", api.Authenticated, admin(h.createRule))
	rt.Handle("GET /api/v1/admin/access-rules/{id}", api.Authenticated, admin(h.rule))
	rt.Handle("PUT /api/v1/admin/access-rules/{id}", api.Authenticated, admin(h.updateRule))
	rt.Handle("DELETE /api/v1/admin/access-rules/{id}", api.Authenticated, admin(h.deleteRule))

	rt.Handle("GET /api/v1/admin/mesh/hubs", api.Authenticated, admin(h.adminHubs))
	rt.Handle("POST /api/v1/admin/mesh/hubs", api.Authenticated, admin(h.createHub))
	rt.Handle("GET /api/v1/admin/mesh/hubs/{id}", api.Authenticated, admin(h.adminHub))
	rt.Handle("PUT /api/v1/admin/mesh/hubs/{id}", api.Authenticated, admin(h.updateHub))
	rt.Handle("DELETE /api/v1/admin/mesh/hubs/{id}", api.Authenticated, admin(h.deleteHub))
	// gatekey-admin's mesh spokes: a hub's gateway spokes (spokes.go).
	rt.Handle("GET /api/v1/admin/mesh/spokes", api.Authenticated, admin(h.meshSpokes))
	rt.Handle("POST /api/v1/admin/mesh/spokes", api.Authenticated, admin(h.createSpoke))
	rt.Handle("GET /api/v1/admin/mesh/spokes/{id}", api.Authenticated, admin(h.meshSpoke))
	rt.Handle("PUT /api/v1/admin/mesh/spokes/{id}", api.Authenticated, admin(h.updateSpoke))
	rt.Handle("DELETE /api/v1/admin/mesh/spokes/{id}", api.Authenticated, admin(h.deleteSpoke))
	// Provisioning a hub's or a spoke's host (mesh_provision.go) and the web
	// UI's spokes under their hub (mesh_ui.go).
	rt.Handle("POST /api/v1/admin/mesh/hubs/{id}/provision", api.Authenticated, admin(h.provisionHub))
	rt.Handle("POST /api/v1/admin/mesh/spokes/{id}/provision", api.Authenticated, admin(h.provisionSpoke))
	rt.Handle("GET /api/v1/admin/mesh/hubs/{id}/spokes", api.Authenticated, admin(h.hubSpokes))
	rt.Handle("POST /api/v1/admin/mesh/hubs/{id}/spokes", api.Authenticated, admin(h.createHubSpoke))

	// The web UI's hub pages (mesh_hub_admin.go, mesh_hub_members.go).
	rt.Handle("GET /api/v1/admin/mesh/hubs/{id}/install-script", api.Authenticated, admin(h.hubInstallScript))
	rt.Handle("GET /api/v1/admin/mesh/hubs/{id}/networks", api.Authenticated, admin(h.hubNetworks))
	rt.Handle("POST /api/v1/admin/mesh/hubs/{id}/networks", api.Authenticated, admin(h.assignHubNetwork))
	rt.Handle("DELETE /api/v1/admin/mesh/hubs/{id}/networks/{network_id}", api.Authenticated, admin(h.removeHubNetwork))
	rt.Handle("GET /api/v1/admin/mesh/hubs/{id}/users", api.Authenticated, admin(h.hubMembersOf(gateway.MemberUser, "users")))
	rt.Handle("POST /api/v1/admin/mesh/hubs/{id}/users", api.Authenticated, admin(h.assignHubUser))
	rt.Handle("DELETE /api/v1/admin/mesh/hubs/{id}/users/{user_id}", api.Authenticated, admin(h.removeHubUser))
	rt.Handle("GET /api/v1/admin/mesh/hubs/{id}/groups", api.Authenticated, admin(h.hubMembersOf(gateway.MemberGroup, "groups")))
	rt.Handle("POST /api/v1/admin/mesh/hubs/{id}/groups", api.Authenticated, admin(h.assignHubGroup))
	rt.Handle("DELETE /api/v1/admin/mesh/hubs/{id}/groups/{group_name}", api.Authenticated, admin(h.removeHubGroup))

	rt.Handle("GET /api/v1/admin/configs", api.Authenticated, admin(h.adminConfigs))
	rt.Handle("POST /api/v1/admin/configs/{config_id}/revoke", api.Authenticated, admin(h.revokeConfig))
	rt.Handle("GET /api/v1/admin/sessions", api.Authenticated, admin(h.sessions))

	// gatekey-admin's own views (admin_views.go): local users, groups, API
	// keys, the CA, live connections and the topology.
	rt.Handle("GET /api/v1/admin/local-users", api.Authenticated, admin(h.localUsers))
	rt.Handle("POST /api/v1/admin/local-users", api.Authenticated, admin(h.createLocalUser))
	rt.Handle("DELETE /api/v1/admin/local-users/{id}", api.Authenticated, admin(h.deleteLocalUser))
	rt.Handle("POST /api/v1/admin/local-users/{id}/reset-password", api.Authenticated, admin(h.resetLocalPassword))
	rt.Handle("GET /api/v1/admin/groups", api.Authenticated, admin(h.adminGroups))
	rt.Handle("GET /api/v1/admin/groups/{name}/members", api.Authenticated, admin(h.groupMembers))
	rt.Handle("GET /api/v1/admin/groups/{name}/rules", api.Authenticated, admin(h.groupRules))
	rt.Handle("GET /api/v1/admin/api-keys", api.Authenticated, admin(h.adminKeys))
	rt.Handle("POST /api/v1/admin/api-keys", api.Authenticated, admin(h.createAdminKey))
	rt.Handle("GET /api/v1/admin/api-keys/{id}", api.Authenticated, admin(h.adminKey))
	rt.Handle("DELETE /api/v1/admin/api-keys/{id}", api.Authenticated, admin(h.revokeAdminKey))
	rt.Handle("GET /api/v1/admin/ca", api.Authenticated, admin(h.adminCA))
	rt.Handle("GET /api/v1/admin/ca/list", api.Authenticated, admin(h.adminCAs))
	rt.Handle("POST /api/v1/admin/ca/rotate", api.Authenticated, admin(h.rotateCA))
	rt.Handle("POST /api/v1/admin/ca/{id}/activate", api.Authenticated, admin(h.activateCA))
	rt.Handle("POST /api/v1/admin/ca/{id}/revoke", api.Authenticated, admin(h.revokeCA))
	rt.Handle("GET /api/v1/admin/connections", api.Authenticated, admin(h.adminConnections))
	rt.Handle("GET /api/v1/admin/topology", api.Authenticated, admin(h.adminTopology))
	// gatekey-admin's write commands (admin_actions.go).
	rt.Handle("POST /api/v1/admin/connections/{id}/disconnect", api.Authenticated, admin(h.disconnectConnection))
	rt.Handle("GET /api/v1/admin/users/{id}/api-keys", api.Authenticated, admin(h.userKeys))
	rt.Handle("POST /api/v1/admin/users/{id}/api-keys", api.Authenticated, admin(h.createUserKey))
	rt.Handle("DELETE /api/v1/admin/users/{id}/api-keys", api.Authenticated, admin(h.revokeUserKeys))
	rt.Handle("GET /api/v1/admin/audit", api.Authenticated, admin(h.adminAudit))

	// Geo-fencing (geofence.go): administrators read; a super
	// administrator changes the policies.
	rt.Handle("GET /api/v1/admin/geo-fence", api.Authenticated, admin(h.geoSettings))
	rt.Handle("PUT /api/v1/admin/geo-fence", api.Authenticated, admin(h.updateGeoSettings))
	rt.Handle("GET /api/v1/admin/geo-fence/check", api.Authenticated, admin(h.geoCheck))
	rt.Handle("GET /api/v1/admin/geo-fence/groups/{group_id}", api.Authenticated, admin(h.geoGroup))
	rt.Handle("PUT /api/v1/admin/geo-fence/groups/{group_id}", api.Authenticated, admin(h.putGeoGroup))
	rt.Handle("DELETE /api/v1/admin/geo-fence/groups/{group_id}", api.Authenticated, admin(h.deleteGeoGroup))

	// Gateway-internal endpoints: the gateway's own token (X-Gateway-Token
	// or the body's "token"), no other credential (Custom). client-rules is
	// verify's verdict, or GateKey's agent's rule list (agent_program.go).
	rt.Handle("POST /api/v1/gateway/heartbeat", api.Custom, h.agent(heartbeat))
	rt.Handle("POST /api/v1/gateway/verify", api.Custom, h.agent(h.verify))
	rt.Handle("POST /api/v1/gateway/connect", api.Custom, h.agent(h.connect))
	rt.Handle("POST /api/v1/gateway/disconnect", api.Custom, h.agent(h.disconnect))
	rt.Handle("POST /api/v1/gateway/provision", api.Custom, h.agent(h.provision))
	rt.Handle("POST /api/v1/gateway/client-rules", api.Custom, h.agent(h.clientRules))
	rt.Handle("POST /api/v1/gateway/all-rules", api.Custom, h.agent(h.allRules))
	rt.Handle("POST /api/v1/gateway/wireguard-peers", api.Custom, h.agent(h.wireGuardPeers))
	// GateKey's mesh agents (mesh_agent.go, mesh_spoke_agent.go): a hub's
	// and a spoke's gateway token, in the body, X-Gateway-Token, or (the
	// hub's GETs) ?token= or a bearer header.
	rt.Handle("POST /api/v1/mesh-hub/heartbeat", api.Custom, h.meshAgent(h.meshLimited("gatekey-heartbeat", h.hubHeartbeat)))
	rt.Handle("POST /api/v1/mesh-hub/provision", api.Custom, h.meshAgent(h.hubProvision))
	rt.Handle("GET /api/v1/mesh-hub/routes", api.Custom, h.meshAgent(h.hubRoutes))
	rt.Handle("GET /api/v1/mesh-hub/spokes", api.Custom, h.meshAgent(h.hubSpokesView))
	rt.Handle("POST /api/v1/mesh-hub/spoke-connected", api.Custom, h.meshAgent(h.hubReport(gateway.MeshSpokeConnected)))
	rt.Handle("POST /api/v1/mesh-hub/spoke-disconnected", api.Custom, h.meshAgent(h.hubReport(gateway.MeshSpokeDisconnected)))
	rt.Handle("POST /api/v1/mesh-hub/client-connected", api.Custom, h.meshAgent(h.hubReport(gateway.MeshClientConnected)))
	rt.Handle("POST /api/v1/mesh-hub/client-disconnected", api.Custom, h.meshAgent(h.hubReport(gateway.MeshClientDisconnected)))
	rt.Handle("POST /api/v1/mesh-hub/client-rules", api.Custom, h.meshAgent(h.hubClientRules))
	rt.Handle("POST /api/v1/mesh-hub/all-client-rules", api.Custom, h.meshAgent(h.hubAllClientRules))
	rt.Handle("POST /api/v1/mesh-spoke/provision", api.Custom, h.meshAgent(h.spokeProvision))
	rt.Handle("POST /api/v1/mesh-spoke/heartbeat", api.Custom, h.meshAgent(h.meshLimited("gatekey-heartbeat", h.spokeHeartbeat)))
	rt.Handle("POST /api/v1/mesh-gateway/provision", api.Custom, h.meshAgent(h.spokeProvision))
	rt.Handle("POST /api/v1/mesh-gateway/heartbeat", api.Custom, h.meshAgent(h.meshLimited("gatekey-heartbeat", h.spokeHeartbeat)))
	// GateKey's agent's remote-session channel (agent_channel.go): the
	// token comes in its first message; a budget per address bounds
	// reconnecting agents.
	if h.Channel != nil && h.Channel.Bus != nil {
		rt.Handle("GET /ws/agent", api.Custom, api.LimitIP(h.Limiter, "gatekey-agent-channel", HeartbeatLimit,
			http.HandlerFunc(h.agentChannel)))
	}

	// PKI endpoints: public material (pki.go says why); revocation is an
	// admin operation.
	rt.HandleFunc("GET /api/v1/pki/ca.pem", api.Public, h.caPEM)
	rt.HandleFunc("GET /api/v1/pki/crl", api.Public, h.crlDER)
	rt.HandleFunc("GET /api/v1/pki/crl.pem", api.Public, h.crlPEM)
	rt.HandleFunc("GET /api/v1/pki/cas/{id}/crl", api.Public, h.caCRLDER)
	rt.HandleFunc("GET /api/v1/pki/cas/{id}/crl.pem", api.Public, h.caCRLPEM)
	rt.HandleFunc("GET /api/v1/pki/check/{serial}", api.Public, h.check)
	rt.Handle("POST /api/v1/admin/pki/revoke", api.Authenticated, admin(h.revokeCertificate))

	rt.Handle("GET /api/v1/openapi.json", api.Public, h.openAPIDoc)
}
