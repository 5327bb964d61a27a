package server

import (
	"context"
	"net/url"

	"netkeep/internal/api/gatekey"
	"netkeep/internal/sso"
)

// loginProviders lists the configured identity providers the way GateKey's
// web UI shows them, each with the URL that starts its sign-in.
type loginProviders struct{ sso *sso.Service }

func (l loginProviders) LoginProviders(ctx context.Context) ([]gatekey.Provider, error) {
	if l.sso == nil {
		return nil, nil
	}
	ps, err := l.sso.Providers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]gatekey.Provider, 0, len(ps))
	for _, p := range ps {
		login := "/api/v1/auth/oidc/login?provider=" + url.QueryEscape(p.Name)
		if p.Kind == sso.SAML {
			login = "/api/v1/auth/saml/" + url.PathEscape(p.Name) + "/login"
		}
		out = append(out, gatekey.Provider{Type: string(p.Kind), Name: p.Name, DisplayName: p.DisplayName, LoginURL: login})
	}
	return out, nil
}
