// Package api is netkeep's HTTP layer shared by every API dialect: which
// dialect owns a path, error rendering in each dialect's envelope, JSON
// decoding and encoding, and the middleware every request passes through
// (request id, logging, metrics, panic recovery, body limits). The dialect
// sub-packages (netkey, netmaker, gatekey, netrecon, nekzus) hold thin handlers
// over the domain packages. api never contains SQL and never imports store.
package api

import "strings"

// Dialect is the seed product whose conventions a path follows.
type Dialect int

// The dialects. Own is netkeep's own paths (Nekzus-style envelope).
const (
	Own Dialect = iota
	NetKey
	Netmaker
	GateKey
	NetRecon
	Nekzus
)

func (d Dialect) String() string {
	return [...]string{"netkeep", "netkey", "netmaker", "gatekey", "netrecon", "nekzus"}[d]
}

// prefixRule maps a path (exact, or prefix when it ends in '*') to a dialect.
// Longest match wins, so specific entries may sit under broader ones.
type prefixRule struct {
	pattern string
	dialect Dialect
}

// dialectRules is DESIGN.md's ownership table, used only for paths no route
// matches (404, 405) and for errors raised before routing; a matched route's
// errors follow the dialect it was registered with (Router.As).
var dialectRules = []prefixRule{
	{"/api/auth/*", NetKey},
	{"/api/v1/psks*", NetKey},
	{"/api/v1/endpoints*", NetKey},
	{"/api/v1/users*", NetKey},
	{"/api/v1/radius/*", NetKey},

	{"/api/networks*", Netmaker},
	{"/api/network", Netmaker},
	{"/api/nodes*", Netmaker},
	{"/api/users/*", Netmaker},
	{"/api/server/*", Netmaker},
	{"/meshclient/*", Netmaker},

	{"/api/v1/gateways*", GateKey},
	{"/api/v1/admin/*", GateKey},
	{"/api/v1/admin/info", Nekzus},
	{"/api/v1/gateway/*", GateKey},
	{"/api/v1/mesh-hub/*", GateKey},
	{"/api/v1/mesh-spoke/*", GateKey},
	{"/api/v1/mesh-gateway/*", GateKey},
	{"/api/v1/pki/*", GateKey},
	{"/api/v1/configs/*", GateKey},
	{"/api/v1/mesh/*", GateKey},
	{"/api/v1/openapi.json", GateKey},
	{"/api/v1/auth/local/*", GateKey},
	{"/api/v1/auth/oidc/*", GateKey},
	{"/api/v1/auth/session", GateKey},
	{"/api/v1/auth/providers", GateKey},
	{"/api/v1/auth/cli/*", GateKey},
	{"/api/v1/auth/api-key/*", GateKey},
	{"/api/v1/server/info", GateKey},

	{"/api/v1/api-keys*", NetRecon},
	{"/api/v1/auth/oauth2/*", NetRecon},

	{"/healthz", Nekzus},
	{"/livez", Nekzus},
	{"/readyz", Nekzus},
	{"/metrics", Nekzus},
	{"/api/v1/auth/*", Nekzus},
	{"/api/v1/apikeys*", Nekzus},
	{"/api/v1/devices*", Nekzus},
	{"/api/v1/pair*", Nekzus},
	{"/api/v1/session-cookies*", Nekzus},
	{"/api/v1/apps*", Nekzus},
	{"/api/v1/routes*", Nekzus},
	{"/api/v1/discovery/*", Nekzus},
	{"/api/v1/services/*", Nekzus},
	{"/api/v1/ws", Nekzus},
	{"/api/v1/stats*", Nekzus},
	{"/api/v1/activity/*", Nekzus},
	{"/api/v1/audit-logs", Nekzus},
	{"/api/v1/webhooks/*", Nekzus},
	{"/apps/*", Nekzus},
}

// DialectFor returns the dialect that owns path.
func DialectFor(path string) Dialect {
	best, bestLen := Own, -1
	for _, r := range dialectRules {
		p := r.pattern
		var ok bool
		if strings.HasSuffix(p, "*") {
			ok = strings.HasPrefix(path, strings.TrimSuffix(p, "*"))
		} else {
			ok = path == p
		}
		if ok && len(p) > bestLen {
			best, bestLen = r.dialect, len(p)
		}
	}
	return best
}
