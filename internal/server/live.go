package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"netkeep/internal/activity"
	"netkeep/internal/api"
	"netkeep/internal/api/live"
	"netkeep/internal/api/nekzus"
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
		Hello: live.Hello{NexusID: info.NexusID, Version: info.Version}})
	return &nekzus.Live{Hub: s.Live, Activity: s.Activity, Info: info,
		Served: s.metrics.Served, AvgLatency: s.metrics.AvgLatency, Limiter: ratelimit.New(time.Now)}
}

// NexusID names this installation to Nekzus clients ("nexus_" and 12 hex
// digits). It is derived from the root secret, so every replica of one
// installation gives the same id and no secret can be learnt from it.
func NexusID(keys *secret.Keys) string {
	m := hmac.New(sha256.New, keys.JWTKey())
	m.Write([]byte("netkeep nexus id"))
	return "nexus_" + hex.EncodeToString(m.Sum(nil))[:12]
}
