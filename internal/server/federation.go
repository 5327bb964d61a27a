package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/nekzus"
	"netkeep/internal/federation"
	"netkeep/internal/peering"
	"netkeep/internal/store"
)

// registerFederation builds the federation over the catalog and the CA,
// and its API routes. The peers' listener is ServeFederation's.
func (s *Server) registerFederation(d Deps) {
	name := d.Config.FederationName
	if name == "" {
		name, _ = os.Hostname()
	}
	cfg := federation.Config{Name: name, SyncInterval: d.Config.FederationSyncInterval, DefaultGroup: s.Identity.DefaultGroupID}
	if d.Config.FederationListen != "" {
		cfg.URL = d.Config.FederationURL // empty: set when the listener runs
	}
	s.Federation = federation.NewService(store.For[federation.Tx](d.DB), s.PKI, s.peerLinks, s.Catalog, cfg,
		federation.WithBus(d.Bus), federation.WithSealer(d.Keys), federation.WithLogger(d.Logger))
	s.peerLinks.TLS = s.Federation.ClientTLS
	(&nekzus.FederationHandlers{Federation: s.Federation}).Register(s.router)
}

// startFederation, when federation is on, builds this instance's
// federation identity and syncs with the peers in the background.
func (s *Server) startFederation(ctx, bg context.Context) error {
	if s.cfg.FederationListen == "" {
		return nil
	}
	if err := s.Federation.Start(ctx); err != nil {
		return err
	}
	s.background.Go(func() { s.Federation.Run(bg) })
	return nil
}

// ServeFederation serves the peers' mutual-TLS listener on ln until ctx
// ends. Call it after Start. Without a configured federation URL, peers
// are told https://<ln's address>.
func (s *Server) ServeFederation(ctx context.Context, ln net.Listener) error {
	if s.cfg.FederationURL == "" {
		s.Federation.SetURL("https://" + ln.Addr().String())
	}
	tlsCfg, err := s.Federation.ServerTLS()
	if err != nil {
		return err
	}
	h := &peering.Handler{Federation: s.Federation, Apps: s.proxy}
	hs := &http.Server{
		Handler:           api.Wrap(h.Routes(), api.Options{Logger: s.log, Metrics: s.metrics, MaxBodyBytes: s.cfg.MaxBodyBytes}),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	return s.serveUntil(ctx, hs, func() error { return hs.ServeTLS(ln, "", "") })
}
