package server

import (
	"fmt"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/web"
)

// dashboard registers the web dashboard over the same services and the
// same Authenticator (its session cookie) as the API.
func (s *Server) dashboard(d Deps, auth *api.Authenticator) {
	(&web.Handlers{
		Auth: auth, Identity: s.Identity, PSKs: s.PSKs, Radius: s.RadiusClients, Mesh: s.Mesh,
		Gateways: s.Gateways, Configs: s.Configs, PKI: s.PKI, APIKeys: s.APIKeys,
		Bus: d.Bus, Keys: d.Keys, PublicURL: d.Config.PublicURL, TrustProxyHeaders: d.Config.TrustProxyHeaders,
		Settings: settings(d.Config), Log: d.Logger,
	}).Register(s.router)
}

// settings are the server settings the dashboard shows: never a secret
// (master key, secret key, database URL with its password).
func settings(c *config.Config) [][2]string {
	onOff := map[bool]string{true: "on", false: "off"}
	orNone := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return v
	}
	return [][2]string{
		{"listen", c.Listen},
		{"tls", onOff[c.TLSCert != ""]},
		{"public-url", orNone(c.PublicURL)},
		{"radius-listen", orNone(c.RadiusListen)},
		{"radius-acct-listen", orNone(c.RadiusAcctListen)},
		{"access-token-ttl", c.AccessTokenTTL.String()},
		{"refresh-grace", c.RefreshGrace.String()},
		{"client-config-ttl", c.ClientConfigTTL.String()},
		{"max-body-bytes", fmt.Sprint(c.MaxBodyBytes)},
		{"trust-proxy-headers", onOff[c.TrustProxyHeaders]},
		{"master-key", onOff[c.MasterKey != ""]},
		{"mesh-interfaces", onOff[c.MeshInterfaces]},
		{"log-level", c.LogLevel},
	}
}
