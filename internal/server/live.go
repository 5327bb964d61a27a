package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"netkeep/internal/activity"
	"netkeep/internal/api"
	"netkeep/internal/api/live"
	"netkeep/internal/api/nekzus"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
	"netkeep/internal/secret"
	"netkeep/internal/store"
)

// Capabilities are what this build offers a paired client, as Nekzus lists
// its own (GET /api/v1/admin/info).
var Capabilities = []string{"websocket", "activity", "webhooks", "devices"}

// newLive builds the activity service, the event stream's hub and the
// handlers of the dialect's live side.
func (s *Server) newLive(d Deps, auth *api.Authenticator) *nekzus.Live {
	s.Activity = activity.NewService(store.For[activity.Tx](d.DB), d.Bus)
	info := nekzus.Info{NexusID: NexusID(d.Keys), Version: d.Version, BuildDate: d.BuildDate, Capabilities: Capabilities}
	if info.Version == "" {
		info.Version = "dev"
	}
	s.Live = live.New(live.Config{Bus: d.Bus, Authenticate: auth.AuthenticateToken, Logger: d.Logger,
		Hello: live.Hello{NexusID: info.NexusID, Version: info.Version}, Logs: s.containerLogs})
	return &nekzus.Live{Hub: s.Live, Activity: s.Activity, Info: info, Counts: s.catalogCounts(),
		Served: s.metrics.Served, AvgLatency: s.metrics.AvgLatency, Limiter: ratelimit.New(time.Now)}
}

// counter adapts a function to nekzus.Counter.
type counter func(ctx context.Context, p *authz.Principal) (int, error)

func (c counter) Count(ctx context.Context, p *authz.Principal) (int, error) { return c(ctx, p) }

// catalogCounts counts the app catalog's routes, apps (and the healthy
// ones) and pending proposals the caller may see; a caller that may not
// read the catalog counts none. The catalog is built after the live
// handlers, so it is looked up at each count.
func (s *Server) catalogCounts() nekzus.Counts {
	entries := func(list func(*catalog.Service, context.Context, *authz.Principal) ([]catalog.Entry, error), healthy bool) counter {
		return func(ctx context.Context, p *authz.Principal) (int, error) {
			if s.Catalog == nil {
				return 0, nil
			}
			es, err := list(s.Catalog, ctx, p)
			if fault.Is(err, fault.Forbidden) {
				return 0, nil
			}
			n := 0
			for _, e := range es {
				if !healthy || s.Catalog.HealthOf(e.App.ID).Status == catalog.HealthHealthy {
					n++
				}
			}
			return n, err
		}
	}
	proposals := counter(func(ctx context.Context, p *authz.Principal) (int, error) {
		if s.Catalog == nil {
			return 0, nil
		}
		ps, err := s.Catalog.Proposals(ctx, p)
		if fault.Is(err, fault.Forbidden) {
			return 0, nil
		}
		return len(ps), err
	})
	return nekzus.Counts{Routes: entries((*catalog.Service).Routes, false), Apps: entries((*catalog.Service).Apps, false),
		AppsOnline: entries((*catalog.Service).Apps, true), Discoveries: proposals}
}

// NexusID names this installation to Nekzus clients ("nexus_" and 12 hex
// digits). It is derived from the root secret, so every replica of one
// installation gives the same id and no secret can be learnt from it.
func NexusID(keys *secret.Keys) string {
	m := hmac.New(sha256.New, keys.JWTKey())
	m.Write([]byte("netkeep nexus id"))
	return "nexus_" + hex.EncodeToString(m.Sum(nil))[:12]
}
