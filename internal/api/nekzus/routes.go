package nekzus

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/container"
)

// Register adds the dialect's routes. Access follows each endpoint's
// "Authentication" line in the Nekzus document: "IP-based (local) or JWT"
// (with or without a scope) is api.Local; "JWT token", "JWT token
// (strict)", "API key or JWT" and a bootstrap token need a credential
// (api.Authenticated), and so IP trust never reaches them. The document
// writes a chapter's later endpoints tersely, without their own line
// (GET /api/v1/scripts/{id}, the backups' restore, the workflows and
// schedules of the Scripts chapter, the federation's peers, the container
// bulk operations): such an endpoint takes the last line stated before it
// in its chapter, as do netkeep's own routes set beside them (POST
// /api/v1/routes, a workflow's run, the federation's join tokens).
// Whether local trust then gets further than 401 is the domain's call,
// on the role it acts with (--local-trust-role): server-wide endpoints
// answer a GROUP_ADMIN 403.
func (h *Handlers) Register(rt *api.Router) {
	rt = rt.As(api.Nekzus)
	// The document's "Authentication" rate category is its Authentication
	// Endpoints section: setup-status, setup, login, refresh, me, logout,
	// the redemption (/api/v1/pair) and the pairing (/api/v1/auth/pair),
	// all counted together per address (authBudget: 10/min unless
	// configured); the QR code states its own rate. Login and refresh are
	// NetRecon's paths too, one handler: a path two dialects share keeps
	// every budget either document states, and NetRecon's states none.
	// Sign-ins also draw on the failure budget every dialect shares.
	signIn := func(f http.HandlerFunc) http.Handler {
		return api.SignInWithin(h.AuthLimiter, authFamily, h.authBudget(), h.LoginFailures, f)
	}
	rt.Handle("GET /api/v1/auth/setup-status", api.Public, h.limitAuth(http.HandlerFunc(h.setupStatus)))
	rt.Handle("POST /api/v1/auth/setup", api.Public, signIn(h.setup))
	rt.Handle("POST /api/v1/auth/login", api.Public, signIn(h.login))
	rt.Handle("POST /api/v1/auth/refresh", api.Public, signIn(h.refresh))
	rt.Handle("GET /api/v1/auth/me", api.Authenticated, h.limitAuth(http.HandlerFunc(h.me)))
	rt.Handle("POST /api/v1/auth/logout", api.Authenticated, h.limitAuth(http.HandlerFunc(h.logout)))
	rt.HandleFunc("GET /api/v1/audit-logs", api.Authenticated, h.auditLogs)

	keys := api.KeyRoutes[keyView]{Keys: h.Keys, View: viewKey, Param: "keyId"}
	// "IP-based (local) or JWT with access:admin scope".
	rt.HandleFunc("GET /api/v1/apikeys", api.Local, keys.List)
	rt.HandleFunc("POST /api/v1/apikeys", api.Local, h.createKey)
	rt.HandleFunc("GET /api/v1/apikeys/{keyId}", api.Local, keys.Get)
	rt.HandleFunc("DELETE /api/v1/apikeys/{keyId}", api.Local, keys.Delete)

	// The live side: the stream authenticates in its first message.
	rt.Handle("GET /api/v1/ws", api.Public, api.LimitIP(h.Live.Limiter, "ws", WSLimit, http.HandlerFunc(h.Live.ws)))
	rt.HandleFunc("GET /api/v1/activity/recent", api.Local, h.Live.recentActivity)
	rt.HandleFunc("GET /api/v1/stats", api.Local, h.Live.statsSummary)
	rt.HandleFunc("GET /api/v1/stats/quick", api.Authenticated, h.Live.quickStats)
	rt.HandleFunc("GET /api/v1/admin/info", api.Local, h.Live.adminInfo)
	rt.HandleFunc("POST /api/v1/webhooks/activity", api.Authenticated, h.Live.webhookActivity)
	rt.HandleFunc("POST /api/v1/webhooks/notify", api.Authenticated, h.Live.webhookNotify)

	rt.HandleFunc("GET /api/v1/backups", api.Local, h.listBackups)
	rt.HandleFunc("POST /api/v1/backups", api.Local, h.createBackup)
	rt.HandleFunc("GET /api/v1/backups/{id}", api.Local, h.getBackup)
	rt.HandleFunc("DELETE /api/v1/backups/{id}", api.Local, h.deleteBackup)
	rt.HandleFunc("POST /api/v1/backups/{id}/restore", api.Local, h.restoreBackup)
	rt.HandleFunc("GET /api/v1/backups/scheduler/status", api.Local, h.backupSchedulerStatus)
	rt.HandleFunc("POST /api/v1/backups/scheduler/trigger", api.Local, h.triggerBackup)

	rt.HandleFunc("GET /api/v1/system/resources", api.Local, h.systemResources)

	rt.HandleFunc("POST /api/v1/certificates/generate", api.Authenticated, h.generateCertificate)
	rt.HandleFunc("GET /api/v1/certificates", api.Authenticated, h.listCertificates)
	rt.HandleFunc("GET /api/v1/certificates/suggest", api.Authenticated, h.suggestCertificateDomains)
	rt.HandleFunc("GET /api/v1/certificates/{domain}", api.Authenticated, h.getCertificate)
	rt.HandleFunc("DELETE /api/v1/certificates/{domain}", api.Authenticated, h.deleteCertificate)

	rt.HandleFunc("GET /api/v1/scripts", api.Local, h.listScripts)
	rt.HandleFunc("GET /api/v1/scripts/available", api.Local, h.availableScripts)
	rt.HandleFunc("POST /api/v1/scripts", api.Local, h.createScript)
	rt.HandleFunc("GET /api/v1/scripts/{id}", api.Local, h.getScript)
	rt.HandleFunc("PUT /api/v1/scripts/{id}", api.Local, h.updateScript)
	rt.HandleFunc("DELETE /api/v1/scripts/{id}", api.Local, h.deleteScript)
	rt.HandleFunc("POST /api/v1/scripts/{id}/execute", api.Local, h.execute(false))
	rt.HandleFunc("POST /api/v1/scripts/{id}/dry-run", api.Local, h.execute(true))
	rt.HandleFunc("GET /api/v1/executions", api.Local, h.listExecutions)
	rt.HandleFunc("GET /api/v1/executions/{id}", api.Local, h.getExecution)

	rt.HandleFunc("GET /api/v1/workflows", api.Local, h.listWorkflows)
	rt.HandleFunc("POST /api/v1/workflows", api.Local, h.createWorkflow)
	rt.HandleFunc("GET /api/v1/workflows/{id}", api.Local, h.getWorkflow)
	rt.HandleFunc("DELETE /api/v1/workflows/{id}", api.Local, h.deleteWorkflow)
	rt.HandleFunc("POST /api/v1/workflows/{id}/execute", api.Local, h.runWorkflow)
	rt.HandleFunc("GET /api/v1/schedules", api.Local, h.listSchedules)
	rt.HandleFunc("POST /api/v1/schedules", api.Local, h.createSchedule)
	rt.HandleFunc("GET /api/v1/schedules/{id}", api.Local, h.getSchedule)
	rt.HandleFunc("DELETE /api/v1/schedules/{id}", api.Local, h.deleteSchedule)

	// QR pairing and devices (Handlers.Devices).
	if h.Devices == nil {
		return
	}
	rt.Handle("GET /api/v1/auth/qr", api.Local, h.limit(LimitQR, h.qr))
	rt.Handle("POST /api/v1/pair", api.Public, h.limitPairing(h.redeem))
	rt.Handle("GET /api/v1/pair/{code}", api.Public, h.limitPairing(h.redeem))
	rt.Handle("POST /api/v1/auth/pair", api.Public, h.limitAuth(http.HandlerFunc(h.pair)))
	rt.Handle("GET /api/v1/devices", api.Local, h.limit(LimitDevices, h.listDevices))
	rt.Handle("GET /api/v1/devices/{deviceId}", api.Local, h.limit(LimitDevices, h.getDevice))
	rt.Handle("PATCH /api/v1/devices/{deviceId}", api.Local, h.limit(LimitDevices, h.updateDevice))
	rt.Handle("DELETE /api/v1/devices/{deviceId}", api.Local, h.limit(LimitDevices, h.revokeDevice))
	rt.Handle("GET /api/v1/session-cookies", api.Authenticated, h.limit(LimitGeneral, h.listSessionCookies))
	rt.Handle("DELETE /api/v1/session-cookies", api.Authenticated, h.limit(LimitGeneral, h.clearSessionCookies))
	rt.Handle("DELETE /api/v1/session-cookies/{appId}", api.Authenticated, h.limit(LimitGeneral, h.clearSessionCookies))
}

// Register adds the app catalog's routes and the reverse proxy.
func (h *AppHandlers) Register(rt *api.Router, auth *api.Authenticator) {
	rt = rt.As(api.Nekzus)
	rt.HandleFunc("GET /api/v1/apps", api.Local, h.listApps)
	rt.HandleFunc("GET /api/v1/apps/{appId}/favicon", api.Local, h.favicon)
	rt.HandleFunc("GET /api/v1/routes", api.Local, h.listRoutes)
	rt.HandleFunc("POST /api/v1/routes", api.Local, h.createRoute)
	rt.HandleFunc("PUT /api/v1/routes/{routeId}", api.Local, h.updateRoute)
	rt.HandleFunc("DELETE /api/v1/routes/{routeId}", api.Local, h.deleteRoute)
	rt.HandleFunc("GET /api/v1/services/{appId}/health", api.Local, h.serviceHealth)
	rt.HandleFunc("GET /api/v1/discovery/proposals", api.Local, h.listProposals)
	rt.HandleFunc("POST /api/v1/discovery/proposals/{proposalId}/approve", api.Local, h.approve)
	rt.HandleFunc("POST /api/v1/discovery/proposals/{proposalId}/dismiss", api.Local, h.dismiss)
	rt.HandleFunc("POST /api/v1/discovery/rediscover", api.Local, h.rediscover)
	// Every method: the proxy forwards what the app speaks. Each route
	// chooses its own access (public, local, a credential with scopes).
	rt.Handle("/apps/{appId}/", api.Custom, auth.Optional(h.Proxy))
}

// Register adds the toolbox's routes and the container exports ("IP-based
// (local) or JWT"). Every one is server-wide: the domain lets only a
// SUPER_ADMIN (or its keys) in, so a trusted local caller is refused 403.
func (h *ToolboxHandlers) Register(rt *api.Router) {
	rt = rt.As(api.Nekzus)
	rt.HandleFunc("GET /api/v1/toolbox/services", api.Local, h.listTemplates)
	rt.HandleFunc("GET /api/v1/toolbox/services/{id}", api.Local, h.getTemplate)
	rt.HandleFunc("POST /api/v1/toolbox/deploy", api.Local, h.deploy)
	rt.HandleFunc("GET /api/v1/toolbox/deployments", api.Local, h.listDeployments)
	rt.HandleFunc("GET /api/v1/toolbox/deployments/{id}", api.Local, h.getDeployment)
	rt.HandleFunc("DELETE /api/v1/toolbox/deployments/{id}", api.Local, h.deleteDeployment)
	rt.HandleFunc("GET /api/v1/containers/{containerId}/export/preview", api.Local, h.export(false, true))
	rt.HandleFunc("POST /api/v1/containers/{containerId}/export", api.Local, h.export(false, false))
	rt.HandleFunc("POST /api/v1/containers/batch/export/preview", api.Local, h.export(true, true))
	rt.HandleFunc("POST /api/v1/containers/batch/export", api.Local, h.export(true, false))
}

// Register adds the federation routes: the seed's peers, sync and status
// ("IP-based (local) or JWT"), and netkeep's own join tokens, which the
// seed does not document.
func (h *FederationHandlers) Register(rt *api.Router) {
	nk := rt.As(api.Nekzus)
	nk.HandleFunc("GET /api/v1/federation/peers", api.Local, h.listPeers)
	nk.HandleFunc("GET /api/v1/federation/peers/{id}", api.Local, h.getPeer)
	nk.HandleFunc("DELETE /api/v1/federation/peers/{id}", api.Local, h.deletePeer)
	nk.HandleFunc("POST /api/v1/federation/sync", api.Local, h.sync)
	nk.HandleFunc("GET /api/v1/federation/status", api.Local, h.status)
	own := rt.As(api.Own)
	own.HandleFunc("POST /api/v1/federation/tokens", api.Local, h.createToken)
	own.HandleFunc("POST /api/v1/federation/join", api.Local, h.join)
}

// Register adds the container routes ("IP-based (local) or JWT"; the
// domain admits only super principals: containers are server-wide).
func (h *ContainerHandlers) Register(rt *api.Router) {
	rt = rt.As(api.Nekzus)
	rt.HandleFunc("GET /api/v1/containers", api.Local, h.list)
	rt.HandleFunc("GET /api/v1/containers/stats", api.Local, h.allStats)
	rt.HandleFunc("GET /api/v1/containers/{containerId}", api.Local, h.get)
	rt.HandleFunc("GET /api/v1/containers/{containerId}/stats", api.Local, h.stats)
	rt.Handle("POST /api/v1/containers/{containerId}/start", api.Local, h.limitOps(h.operate(container.OpStart)))
	rt.Handle("POST /api/v1/containers/{containerId}/stop", api.Local, h.limitOps(h.operate(container.OpStop)))
	rt.Handle("POST /api/v1/containers/{containerId}/restart", api.Local, h.limitOps(h.operate(container.OpRestart)))
	rt.Handle("POST /api/v1/containers/start-all", api.Local, h.limitOps(h.all(container.OpStart)))
	rt.Handle("POST /api/v1/containers/stop-all", api.Local, h.limitOps(h.all(container.OpStop)))
	rt.Handle("POST /api/v1/containers/restart-all", api.Local, h.limitOps(h.all(container.OpRestart)))
	rt.Handle("POST /api/v1/containers/batch", api.Local, h.limitOps(h.batch))
}
