package server

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/nekzus"
	"netkeep/internal/fault"
)

// reasonStarting: the store is not ready yet (migrations running).
const reasonStarting fault.Reason = "storage_unavailable"

var errStarting = fault.New(fault.Unavailable, "server is starting; retry shortly").WithReason(reasonStarting)

func (s *Server) routes() {
	r := s.router
	// Nekzus's rate-limit table: health checks 10/s (burst 50), metrics
	// 30/min, per client address.
	health := func(h http.HandlerFunc) http.Handler {
		return api.LimitIP(s.ipLimiter, "nekzus-health", nekzus.Limits[nekzus.LimitHealth].Window(), h)
	}
	r.Handle("GET /healthz", api.Public, health(s.healthz))
	r.Handle("GET /livez", api.Public, health(func(w http.ResponseWriter, _ *http.Request) { plain(w, http.StatusOK, "ok") }))
	r.Handle("GET /readyz", api.Public, health(s.readyz))
	r.Handle("GET /metrics", api.Public, api.LimitIP(s.ipLimiter, "nekzus-metrics", nekzus.Limits[nekzus.LimitGeneral].Window(), s.metrics.Handler()))
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}

// healthz reports the failing check by name, never its error text.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		api.LoggerFrom(r.Context()).Warn("health check failed", "check", "database", "err", err)
		plain(w, http.StatusServiceUnavailable, "unhealthy: database")
		return
	}
	plain(w, http.StatusOK, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if !s.ready.Load() || s.db.Ping(ctx) != nil {
		plain(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	plain(w, http.StatusOK, "ok")
}
