package server

import (
	"context"
	"fmt"
	"os"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/nekzus"
	"netkeep/internal/audit"
	"netkeep/internal/catalog"
	"netkeep/internal/docker"
	"netkeep/internal/peering"
	"netkeep/internal/proxy"
	"netkeep/internal/store"
)

// registerApps builds the app catalog, the reverse proxy and their routes.
func (s *Server) registerApps(d Deps, auth *api.Authenticator) {
	s.Upstreams = proxy.NewClient()
	s.Catalog = catalog.NewService(store.For[catalog.Tx](d.DB), d.Bus,
		catalog.WithLogger(d.Logger), catalog.WithIconFetcher(s.Upstreams))
	s.peerLinks = &peering.Links{}
	px := proxy.New(s.Catalog, proxy.Options{TrustProxyHeaders: d.Config.TrustProxyHeaders, Cookies: s.Devices, Logger: d.Logger, Peers: s.peerLinks})
	s.proxy = px
	(&nekzus.AppHandlers{Catalog: s.Catalog, Proxy: px, PublicURL: d.Config.PublicURL,
		TrustProxyHeaders: d.Config.TrustProxyHeaders}).Register(s.router, auth)
}

// startApps loads the route table and the route file, then runs the
// health checks and, with a Docker host, discovery in the background.
func (s *Server) startApps(ctx, bg context.Context) error {
	if err := s.Catalog.Start(bg); err != nil {
		return err
	}
	if s.cfg.AppsFile != "" {
		if err := s.loadAppsFile(ctx); err != nil {
			return err
		}
	}
	hc := catalog.HealthCheck{Interval: s.cfg.HealthInterval, Timeout: s.cfg.HealthTimeout}
	if hc.Interval <= 0 {
		hc.Interval = 30 * time.Second
	}
	if hc.Timeout <= 0 || hc.Timeout > hc.Interval {
		hc.Timeout = min(5*time.Second, hc.Interval)
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		s.Catalog.RunHealthChecks(bg, s.Upstreams, hc)
	}()
	if s.cfg.DockerHost != "" {
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			docker.Watch(bg, s.cfg.DockerHost, s.Catalog, s.Identity.DefaultGroupID, 30*time.Second, s.log)
		}()
	}
	return nil
}

// loadAppsFile makes the catalog hold the route file's apps, in the
// default group. A bad file stops the start: better than serving a
// catalog the operator did not write.
func (s *Server) loadAppsFile(ctx context.Context) error {
	data, err := os.ReadFile(s.cfg.AppsFile)
	if err != nil {
		return fmt.Errorf("apps-file: %w", err)
	}
	routes, err := catalog.ParseRouteFile(data)
	if err != nil {
		return fmt.Errorf("apps-file %s: %w", s.cfg.AppsFile, err)
	}
	gid, err := s.Identity.DefaultGroupID(ctx)
	if err != nil {
		return err
	}
	if err := s.Catalog.LoadFile(ctx, audit.Source{Actor: "apps-file"}, routes, gid); err != nil {
		return fmt.Errorf("apps-file %s: %w", s.cfg.AppsFile, err)
	}
	return nil
}
