// Package server assembles netkeep's HTTP server: it registers every dialect's
// routes and the probes on one api.Router, wraps them in the shared
// middleware, and runs the http.Server with timeouts and graceful shutdown.
// It is wiring only; behaviour lives in the api and domain packages.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/store"
)

// Server is one netkeep HTTP server.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	metrics *api.Metrics
	router  *api.Router
	handler http.Handler
	ready   atomic.Bool
}

// Deps are what the server serves.
type Deps struct {
	Config *config.Config
	Logger *slog.Logger
	DB     *store.DB
}

// New builds the server and its routes. It is not ready (readyz 503, API 503)
// until MarkReady.
func New(d Deps) *Server {
	s := &Server{cfg: d.Config, log: d.Logger, db: d.DB, metrics: api.NewMetrics(), router: api.NewRouter()}
	s.routes()
	s.handler = api.Wrap(s.gate(s.router), api.Options{
		Logger:            d.Logger,
		Metrics:           s.metrics,
		MaxBodyBytes:      d.Config.MaxBodyBytes,
		TrustProxyHeaders: d.Config.TrustProxyHeaders,
	})
	return s
}

// Handler is the complete HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every registered route.
func (s *Server) Routes() []api.Route { return s.router.Routes() }

// MarkReady opens the API once migrations are applied.
func (s *Server) MarkReady() { s.ready.Store(true) }

// gate answers 503 on everything but the probes and metrics until ready.
func (s *Server) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			switch r.URL.Path {
			case "/healthz", "/livez", "/readyz", "/metrics":
			default:
				w.Header().Set("Retry-After", "1")
				api.Error(w, r, errStarting)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Serve serves on ln until ctx is cancelled, then stops accepting, lets
// in-flight requests finish within the shutdown timeout, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		if s.cfg.TLSCert != "" {
			err = hs.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			err = hs.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
