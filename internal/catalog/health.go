package catalog

import (
	"context"
	"sync"
	"time"

	"netkeep/internal/authz"
)

// Prober asks an upstream whether it answers: the status code of a GET of
// url, or an error when none came before ctx ended. internal/proxy
// implements it over HTTP with keep-alive connections.
type Prober interface {
	Probe(ctx context.Context, url string) (status int, err error)
}

// healthBoard is this replica's view of every route's upstream health.
// It is memory only: each replica checks for itself, and a restart starts
// from "unknown".
type healthBoard struct {
	mu    sync.RWMutex
	state map[string]Health
}

func newHealthBoard() *healthBoard { return &healthBoard{state: map[string]Health{}} }

func (b *healthBoard) get(appID string) Health {
	b.mu.RLock()
	h, ok := b.state[appID]
	b.mu.RUnlock()
	if !ok {
		h.Status = HealthUnknown
	}
	return h
}

// set records h and returns the previous status.
func (b *healthBoard) set(appID string, h Health) string {
	b.mu.Lock()
	prev, ok := b.state[appID]
	b.state[appID] = h
	b.mu.Unlock()
	if !ok {
		return HealthUnknown
	}
	return prev.Status
}

func (b *healthBoard) forget(appID string) {
	b.mu.Lock()
	delete(b.state, appID)
	b.mu.Unlock()
}

// HealthOf returns the last check of the app's route, for listings.
// A peer's app has the health its peer reported (unhealthy while the peer
// cannot be reached).
func (s *Service) HealthOf(appID string) Health {
	if e, ok := s.Lookup(appID); ok && e.Remote != nil {
		return e.Remote.Health
	}
	return s.health.get(appID)
}

// Health returns the health of an app p may see. Errors: unauthorized,
// forbidden, not_found.
func (s *Service) Health(ctx context.Context, p *authz.Principal, appID string) (Health, error) {
	if _, err := s.App(ctx, p, appID); err != nil {
		return Health{}, err
	}
	return s.HealthOf(appID), nil
}

// HealthChange is the data of an app health_change event.
type HealthChange struct {
	AppID          string    `json:"appId"`
	Status         string    `json:"status"`
	PreviousStatus string    `json:"previousStatus"`
	LastCheck      time.Time `json:"lastCheck"`
	ResponseTime   int64     `json:"responseTime"` // milliseconds
	StatusCode     int       `json:"statusCode"`
}

// HealthCheck configures the checker.
type HealthCheck struct {
	Interval time.Duration // between two checks of a route
	Timeout  time.Duration // for one check
	// Parallel is how many checks run at once (default 16).
	Parallel int
}

// RunHealthChecks checks every active route's upstream each interval until
// ctx ends. A route is healthy when its upstream answers with a status
// below 500 within the timeout. A change of status is announced as an
// app health_change event (with HealthChange as data), the first check of
// a route included.
func (s *Service) RunHealthChecks(ctx context.Context, pr Prober, hc HealthCheck) {
	if hc.Parallel <= 0 {
		hc.Parallel = 16
	}
	t := time.NewTicker(hc.Interval)
	defer t.Stop()
	for {
		s.CheckAll(ctx, pr, hc)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckAll checks every active route once, hc.Parallel at a time, and
// returns when all are done.
func (s *Service) CheckAll(ctx context.Context, pr Prober, hc HealthCheck) {
	if hc.Parallel <= 0 {
		hc.Parallel = 16
	}
	sem := make(chan struct{}, hc.Parallel)
	var wg sync.WaitGroup
	for _, e := range s.Entries() {
		if e.Route.Status != StatusActive || e.Remote != nil {
			continue // a peer checks its own apps
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.check(ctx, pr, hc.Timeout, e)
		}()
	}
	wg.Wait()
}

func (s *Service) check(ctx context.Context, pr Prober, timeout time.Duration, e Entry) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	start := s.now()
	code, err := pr.Probe(cctx, e.Route.To)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: no verdict
	}
	h := Health{Status: HealthHealthy, LastCheck: s.now().UTC(), ResponseTime: s.now().Sub(start), StatusCode: code}
	if err != nil || code >= 500 {
		h.Status = HealthUnhealthy
	}
	if _, ok := s.Lookup(e.App.ID); !ok {
		return // deleted while checked
	}
	prev := s.health.set(e.App.ID, h)
	if prev == h.Status {
		return
	}
	s.publish(ctx, TopicApp, ActionHealthChange, e.App.GroupID, e.App.ID, HealthChange{
		AppID: e.App.ID, Status: h.Status, PreviousStatus: prev, LastCheck: h.LastCheck,
		ResponseTime: h.ResponseTime.Milliseconds(), StatusCode: h.StatusCode,
	})
}
