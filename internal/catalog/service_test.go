package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var src = audit.Source{Actor: "test"}

func newCatalog(t *testing.T, db *store.DB, bus event.Bus) (*catalog.Service, *authz.Principal) {
	t.Helper()
	g, err := db.Read().GroupByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	c := catalog.NewService(store.For[catalog.Tx](db), bus)
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c, &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin, GroupID: g.ID}
}

// The route file owns its apps: listed ones are created or updated, those
// no longer listed go, an API app is never taken over, and a bad file
// changes nothing.
func TestLoadFile(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c, admin := newCatalog(t, db, nil)
		load := func(text string) error {
			routes, err := catalog.ParseRouteFile([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			return c.LoadFile(ctx, src, routes, admin.GroupID)
		}
		if err := load("routes:\n  - {appId: a, to: 'http://a:1'}\n  - {appId: b, to: 'http://b:1'}\n"); err != nil {
			t.Fatal(err)
		}
		if err := load("routes:\n  - {appId: a, to: 'http://a:2', websocket: true}\n"); err != nil {
			t.Fatal(err)
		}
		a, ok := c.Lookup("a")
		if _, gone := c.Lookup("b"); !ok || gone || a.Route.To != "http://a:2" || !a.Route.WebSocket {
			t.Fatalf("after reload: a=%+v b still there=%v", a.Route, gone)
		}
		id, to := "api-app", "http://api:1"
		if _, err := c.Create(ctx, admin, src, catalog.RouteInput{AppID: &id, To: &to}); err != nil {
			t.Fatal(err)
		}
		if err := load("routes:\n  - {appId: a, to: 'http://a:3'}\n  - {appId: api-app, to: 'http://evil:1'}\n"); err == nil {
			t.Fatal("the file took over an API app")
		}
		if e, _ := c.Lookup("a"); e.Route.To != "http://a:2" {
			t.Errorf("a failed file changed a: %s", e.Route.To)
		}
		if e, _ := c.Lookup("api-app"); e.Route.To != to {
			t.Errorf("a failed file changed the API app: %s", e.Route.To)
		}
	})
}

type prober struct{ status int }

func (p *prober) Probe(context.Context, string) (int, error) {
	if p.status == 0 {
		return 0, errors.New("connection refused")
	}
	return p.status, nil
}

// A health check publishes app/health_change with the documented data when
// a route's status changes, and only then.
func TestHealthChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		bus := event.NewLocal()
		defer bus.Close()
		c, admin := newCatalog(t, db, bus)
		id, to := "grafana", "http://grafana:3000"
		if _, err := c.Create(ctx, admin, src, catalog.RouteInput{AppID: &id, To: &to}); err != nil {
			t.Fatal(err)
		}
		sub := bus.Subscribe(catalog.TopicApp)
		defer sub.Close()
		pr := &prober{status: 200}
		hc := catalog.HealthCheck{Timeout: time.Second}
		expect := func(status, prev string) {
			t.Helper()
			e := eventtest.Receive(t, sub)
			var d catalog.HealthChange
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if e.Action != catalog.ActionHealthChange || e.ID != id || e.GroupID != admin.GroupID || d.Status != status || d.PreviousStatus != prev || d.AppID != id {
				t.Errorf("event %+v %+v, want %s after %s", e, d, status, prev)
			}
		}
		c.CheckAll(ctx, pr, hc)
		expect(catalog.HealthHealthy, catalog.HealthUnknown)
		c.CheckAll(ctx, pr, hc)
		eventtest.ExpectNothingBuffered(t, sub)
		pr.status = 0
		c.CheckAll(ctx, pr, hc)
		expect(catalog.HealthUnhealthy, catalog.HealthHealthy)
		pr.status = 503
		c.CheckAll(ctx, pr, hc)
		eventtest.ExpectNothingBuffered(t, sub)
		if h := c.HealthOf(id); h.Status != catalog.HealthUnhealthy || h.StatusCode != 503 {
			t.Errorf("health: %+v", h)
		}
	})
}
