package docker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/docker"
	"netkeep/internal/docker/dockertest"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/proxy"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var (
	master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	src    = audit.Source{Actor: "test"}
)

func defaultGroup(t *testing.T, db *store.DB) int64 {
	t.Helper()
	g, err := db.Read().GroupByName(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// discoveryEvent waits for a discovery event of action whose data names
// appID (proposals) or id (removals).
func discoveryEvent(t *testing.T, sub *event.Subscription, action, match string) event.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-sub.C():
			if e.Topic != catalog.TopicDiscovery || e.Action != action {
				continue
			}
			var v struct {
				ID           string `json:"id"`
				SuggestedApp struct {
					ID string `json:"id"`
				} `json:"suggestedApp"`
			}
			_ = json.Unmarshal(e.Data, &v)
			if v.SuggestedApp.ID == match || v.ID == match {
				return e
			}
		case <-deadline:
			t.Fatalf("no discovery/%s event for %s", action, match)
		}
	}
}

// Discovery against a real Docker engine: a labelled container becomes a
// proposal as it starts (event discovery/proposed), approving it puts its
// app in the catalog and the app answers health checks, and a stopped
// container's proposal goes away (discovery/removed).
func TestDiscoveryFromDocker(t *testing.T) {
	host := dockertest.Engine(t)
	dockertest.Busybox(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		bus := event.NewLocal()
		defer bus.Close()
		sub := bus.Subscribe(catalog.TopicDiscovery)
		defer sub.Close()
		cat := catalog.NewService(store.For[catalog.Tx](db), bus)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := cat.Start(ctx); err != nil {
			t.Fatal(err)
		}
		group := defaultGroup(t, db)
		done := make(chan struct{})
		go func() {
			defer close(done)
			docker.Watch(ctx, host, cat, func(context.Context) (int64, error) { return group, nil }, 100*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(30 * time.Second)
		for !cat.DiscoveryEnabled() {
			if time.Now().After(deadline) {
				t.Fatal("discovery never enabled")
			}
			time.Sleep(20 * time.Millisecond)
		}

		port := dockertest.FreePort(t)
		appID := fmt.Sprintf("web-%d", port)
		web := dockertest.Run(t, "nk-web", dockertest.RunOptions{Cmd: dockertest.HTTPD(port), Labels: map[string]string{
			"nekzus.enable": "true", "nekzus.app.id": appID, "nekzus.app.name": "Web", "nekzus.port": strconv.Itoa(port),
			"nekzus.app.tags": "test,web", "nekzus.route.websocket": "true",
		}})
		proposed := discoveryEvent(t, sub, catalog.ActionProposed, appID)
		var view catalog.ProposalView
		if err := json.Unmarshal(proposed.Data, &view); err != nil {
			t.Fatal(err)
		}
		wantTo := fmt.Sprintf("http://127.0.0.1:%d", port)
		if view.Source != "docker" || view.DetectedPort != port || view.Confidence != catalog.ConfidenceLabels ||
			view.SuggestedRoute.To != wantTo || view.SuggestedApp.Name != "Web" || len(view.Tags) != 2 || !view.SuggestedRoute.WebSocket {
			t.Fatalf("proposal: %+v", view)
		}
		if _, e, err := cat.Approve(ctx, master, src, view.ID, 0); err != nil {
			t.Fatal(err)
		} else if e.Route.To != wantTo || !e.Route.WebSocket || e.App.GroupID != group {
			t.Fatalf("approved app: %+v %+v", e.App, e.Route)
		}
		if _, ok := cat.Lookup(appID); !ok {
			t.Fatal("approved app is not served")
		}
		cat.CheckAll(ctx, proxy.NewClient(), catalog.HealthCheck{Timeout: 5 * time.Second})
		if h := cat.HealthOf(appID); h.Status != catalog.HealthHealthy || h.StatusCode != http.StatusOK {
			t.Errorf("health of the container's app: %+v", h)
		}
		_ = web

		// A second labelled container, stopped: its proposal goes away.
		// (Published ports need a bridge network, which this engine runs
		// without; catalog's tests cover proposals from published ports.)
		other := dockertest.FreePort(t)
		otherID := fmt.Sprintf("other-%d", other)
		plain := dockertest.Run(t, "nk-other", dockertest.RunOptions{Cmd: dockertest.HTTPD(other),
			Labels: map[string]string{"nekzus.app.id": otherID, "nekzus.port": strconv.Itoa(other)}})
		if err := json.Unmarshal(discoveryEvent(t, sub, catalog.ActionProposed, otherID).Data, &view); err != nil {
			t.Fatal(err)
		}
		plain.Stop(t)
		discoveryEvent(t, sub, catalog.ActionRemoved, view.ID)
		props, err := cat.Proposals(ctx, master)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range props {
			if p.ID == view.ID {
				t.Errorf("the stopped container is still proposed")
			}
		}
	})
}

// Without an engine discovery says it is disabled, and the catalog works.
func TestNoEngine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cat := catalog.NewService(store.For[catalog.Tx](db), nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			docker.Watch(ctx, "unix:///nonexistent/docker.sock", cat, func(context.Context) (int64, error) { return 1, nil }, time.Hour,
				slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()
		if cat.DiscoveryEnabled() {
			t.Error("discovery enabled without an engine")
		}
		if _, err := cat.Rediscover(ctx, master, src); !fault.Is(err, fault.Unavailable) {
			t.Errorf("rediscover without an engine: %v", err)
		}
		to, id := "http://127.0.0.1:9", "still-works"
		admin := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin, GroupID: defaultGroup(t, db)}
		if _, err := cat.Create(ctx, admin, src, catalog.RouteInput{AppID: &id, To: &to}); err != nil {
			t.Errorf("catalog without discovery: %v", err)
		}
		cancel()
		<-done
	})
}
