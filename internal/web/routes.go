package web

import (
	"net/http"

	"netkeep/internal/api"
)

// Register adds the dashboard: / (to the home page), /static/ (assets),
// and the pages under /ui/. They are Custom routes: each page signs the
// browser in itself (signedIn), and answers with pages and redirects,
// never with an API envelope.
func (h *Handlers) Register(rt *api.Router) {
	h.init()
	rt = rt.As(api.Own)
	get := func(p string, f http.HandlerFunc) { rt.Handle("GET "+p, api.Custom, h.signedIn(f)) }
	post := func(p string, f http.HandlerFunc) { rt.Handle("POST "+p, api.Custom, h.signedIn(f)) }

	rt.HandleFunc("GET /{$}", api.Public, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusFound)
	})
	rt.Handle("GET /static/{file}", api.Public, staticFiles())

	rt.Handle("GET /ui/setup", api.Public, h.anonymous(h.setupPage))
	rt.Handle("POST /ui/setup", api.Public, h.anonymous(h.setup))
	rt.Handle("GET /ui/login", api.Public, h.anonymous(h.loginPage))
	rt.Handle("POST /ui/login", api.Public, h.anonymous(h.login))
	rt.Handle("POST /ui/login/totp", api.Public, h.anonymous(h.loginTOTP))
	post("/ui/logout", h.logout)

	get("/ui/{$}", h.home)
	get("/ui/events", h.events)
	get("/ui/account/mfa", h.mfaPage)
	post("/ui/account/mfa", h.mfaSetup)
	post("/ui/account/mfa/enable", h.mfaEnable)

	// Front desk: guest and device PSKs.
	get("/ui/psks", h.psksPage)
	post("/ui/psks", h.createGuest)
	post("/ui/psks/bulk", h.createGuests)
	get("/ui/psks/{id}", h.pskPage)
	get("/ui/psks/{id}/card", h.pskCard)
	post("/ui/psks/{id}/enable", h.pskEnable)
	post("/ui/psks/{id}/disable", h.pskDisable)
	post("/ui/psks/{id}/extend", h.pskExtend)
	post("/ui/psks/{id}/delete", h.pskDelete)

	// Network admin.
	get("/ui/endpoints", h.endpointsPage)
	post("/ui/endpoints", h.createEndpoint)
	post("/ui/endpoints/{id}/delete", h.deleteEndpoint)
	get("/ui/import", h.importPage)
	// The file, then its text again to confirm: twice the file, and room.
	rt.Handle("POST /ui/import", api.Custom, bodyLimit(2*maxImportForm+1<<20, h.signedIn(h.importCSV)))
	get("/ui/radius", h.radiusPage)
	post("/ui/radius/clients", h.createRadiusClient)
	post("/ui/radius/clients/{id}/delete", h.deleteRadiusClient)
	get("/ui/mesh", h.meshPage)
	post("/ui/mesh", h.createNetwork)
	get("/ui/mesh/{netid}", h.networkPage)
	post("/ui/mesh/{netid}/nodes/{mac}/approve", h.approveNode)
	post("/ui/mesh/{netid}/nodes/{mac}/delete", h.deleteNode)
	post("/ui/mesh/{netid}/keys", h.createAccessKey)
	post("/ui/mesh/{netid}/keys/{name}/delete", h.deleteAccessKey)
	get("/ui/vpn", h.vpnPage)
	get("/ui/pki", h.pkiPage)

	// Everyone's own.
	get("/ui/configs", h.configsPage)
	post("/ui/configs", h.generateConfig)
	get("/ui/configs/{id}/download", h.downloadConfig)
	get("/ui/keys", h.keysPage)
	post("/ui/keys", h.createKey)
	post("/ui/keys/{id}/revoke", h.revokeKey)
	if h.Devices != nil {
		get("/ui/devices", h.devicesPage)
		post("/ui/devices/pair", h.pairDevice)
		post("/ui/devices/{id}/revoke", h.revokeDevice)
	}

	// Administration.
	get("/ui/admin/users", h.usersPage)
	post("/ui/admin/users", h.createUser)
	post("/ui/admin/users/{id}", h.updateUser)
	post("/ui/admin/users/{id}/delete", h.deleteUser)
	get("/ui/admin/groups", h.groupsPage)
	post("/ui/admin/groups", h.createGroup)
	get("/ui/admin/audit", h.auditPage)
	get("/ui/admin/settings", h.settingsPage)
}
