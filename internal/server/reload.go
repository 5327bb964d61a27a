package server

import (
	"context"
	"encoding/json"
	"errors"

	"netkeep/internal/api/live"
	"netkeep/internal/event"
)

// Reloaded names the files a reload read again.
type Reloaded struct {
	Files []string `json:"files"`
}

// Reload reads the configuration that can change while netkeep runs
// (cmd/netkeep calls it on SIGHUP): the route file (--apps-file) and the
// identity providers file (--sso-providers), each applied in one
// transaction with its audit entries, so a bad file changes nothing of its
// own part. Every other setting (listen address, database, keys, limits)
// needs a restart. After a reload that read at least one file, subscribers
// of every replica get config_reload on the event stream. The error joins
// each file's; files that applied stay applied.
func (s *Server) Reload(ctx context.Context) (Reloaded, error) {
	var done Reloaded
	var errs []error
	if s.cfg.AppsFile != "" {
		if err := s.loadAppsFile(ctx); err != nil {
			errs = append(errs, err)
		} else {
			done.Files = append(done.Files, s.cfg.AppsFile)
		}
	}
	if s.cfg.SSOProviders != "" {
		if err := s.applySSOProviders(ctx); err != nil {
			errs = append(errs, err)
		} else {
			done.Files = append(done.Files, s.cfg.SSOProviders)
		}
	}
	if len(done.Files) > 0 && s.bus != nil {
		data, _ := json.Marshal(done)
		if err := s.bus.Publish(ctx, event.Event{Topic: live.TopicConfig, Action: "reloaded", Data: data}); err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}
