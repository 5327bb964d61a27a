package server

import (
	"context"

	"netkeep/internal/api"
	"netkeep/internal/api/netrecon"
	"netkeep/internal/api/own"
	"netkeep/internal/event"
	"netkeep/internal/sso"
	"netkeep/internal/sso/provider"
	"netkeep/internal/store"
)

// newSSO builds single sign-on: the domain, the OpenID provider (whose
// access tokens auth accepts from here on) and the handlers of the
// dialects that serve it. A provider that cannot be built is a wiring
// error.
func (s *Server) newSSO(d Deps, auth *api.Authenticator) (*netrecon.OAuth2, *own.SSO) {
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
	return &netrecon.OAuth2{Provider: p, Clients: s.SSO, Auth: auth},
		&own.SSO{Providers: s.SSO, OpenID: p.Protocol()}
}
