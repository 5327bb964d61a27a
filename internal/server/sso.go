package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/gatekey"
	"netkeep/internal/api/netrecon"
	"netkeep/internal/api/own"
	"netkeep/internal/event"
	"netkeep/internal/sso"
	"netkeep/internal/sso/oidcrp"
	"netkeep/internal/sso/provider"
	"netkeep/internal/sso/samlsp"
	"netkeep/internal/store"
)

// newSSO builds single sign-on: the domain, the OpenID provider (whose
// access tokens auth accepts from here on) and the handlers of the
// dialects that serve it. A provider that cannot be built is a wiring
// error.
func (s *Server) newSSO(d Deps, auth *api.Authenticator) (*netrecon.OAuth2, *own.SSO, *gatekey.SSO) {
	cfg := sso.DefaultConfig()
	cfg.AccessTTL = d.Config.AccessTokenTTL
	publish := func(ctx context.Context, topic, action string, groupID int64, id string) {
		if d.Bus == nil {
			return
		}
		if err := d.Bus.Publish(ctx, event.Event{Topic: topic, Action: action, GroupID: groupID, ID: id}); err != nil {
			s.log.Warn("publishing event", "topic", topic, "action", action, "err", err)
		}
	}
	s.SSO = sso.NewService(store.For[sso.Tx](d.DB), d.Keys, s.Identity, cfg,
		sso.WithLogger(d.Logger), sso.WithPublisher(publish))
	p, err := provider.New(s.SSO, s.Identity, provider.Config{
		PublicURL: d.Config.PublicURL, TrustProxyHeaders: d.Config.TrustProxyHeaders, Logger: d.Logger})
	if err != nil {
		panic(err)
	}
	auth.Delegated = p
	// Discovery, token exchange, JWKS, userinfo and SAML metadata: each
	// answer is awaited at most this long.
	client := &http.Client{Timeout: 10 * time.Second}
	return &netrecon.OAuth2{Provider: p, Clients: s.SSO, Auth: auth},
		&own.SSO{Providers: s.SSO, OpenID: p.Protocol()},
		&gatekey.SSO{OIDC: oidcrp.New(s.SSO, d.Keys, client), SAML: samlsp.New(s.SSO, d.Keys, client),
			Sign: s.SSO, Sessions: s.Identity, PublicURL: d.Config.PublicURL, TrustProxyHeaders: d.Config.TrustProxyHeaders}
}

// applySSOProviders makes the configuration file's identity providers
// (--sso-providers) exist as written; a file that cannot be read or applied
// stops the start.
func (s *Server) applySSOProviders(ctx context.Context) error {
	if s.cfg.SSOProviders == "" {
		return nil
	}
	data, err := os.ReadFile(s.cfg.SSOProviders)
	if err != nil {
		return fmt.Errorf("--sso-providers: %w", err)
	}
	ps, err := sso.ParseProvidersFile(data, os.ReadFile)
	if err != nil {
		return fmt.Errorf("--sso-providers %s: %w", s.cfg.SSOProviders, err)
	}
	if err := s.SSO.ApplyManaged(ctx, ps); err != nil {
		return fmt.Errorf("--sso-providers %s: %w", s.cfg.SSOProviders, err)
	}
	return nil
}
