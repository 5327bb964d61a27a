package server

import (
	"context"
	"fmt"
	"net/url"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/sso"
	"netkeep/internal/web"
)

// dashboard registers the web dashboard over the same services and the
// same Authenticator (its session cookie) as the API.
func (s *Server) dashboard(d Deps, auth *api.Authenticator) {
	(&web.Handlers{
		Auth: auth, Identity: s.Identity, PSKs: s.PSKs, Radius: s.RadiusClients, Mesh: s.Mesh,
		Gateways: s.Gateways, Configs: s.Configs, PKI: s.PKI, APIKeys: s.APIKeys,
		Bus: d.Bus, Keys: d.Keys, PublicURL: d.Config.PublicURL, TrustProxyHeaders: d.Config.TrustProxyHeaders,
		Settings: settings(d.Config), Log: d.Logger, SignIn: signInOptions{s.SSO}, Devices: s.Devices,
	}).Register(s.router)
}

// signInOptions offers the configured identity providers on the
// dashboard's sign-in page, each bringing the browser back to next.
type signInOptions struct{ sso *sso.Service }

func (o signInOptions) SignInOptions(ctx context.Context, next string) []web.SignInOption {
	if o.sso == nil {
		return nil
	}
	ps, err := o.sso.Providers(ctx)
	if err != nil {
		return nil // the local sign-in still works; the error is the API's to report
	}
	out := make([]web.SignInOption, 0, len(ps))
	for _, p := range ps {
		u := "/api/v1/auth/oidc/login?provider=" + url.QueryEscape(p.Name) + "&redirect=" + url.QueryEscape(next)
		if p.Kind == sso.SAML {
			u = "/api/v1/auth/saml/" + url.PathEscape(p.Name) + "/login?redirect=" + url.QueryEscape(next)
		}
		name := p.DisplayName
		if name == "" {
			name = p.Name
		}
		out = append(out, web.SignInOption{Name: name, URL: u})
	}
	return out
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
