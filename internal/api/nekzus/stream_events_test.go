package nekzus_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/catalog"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// noScan stands in for a container engine: discovery is on, and the test
// reports what the engine would have seen (catalog.Observe).
type noScan struct{}

func (noScan) Scan(context.Context) ([]catalog.Sighting, error) { return nil, nil }

// awaitWhere reads s until a message of type typ whose data satisfies ok,
// skipping others (domain changes, earlier health verdicts).
func (s *stream) awaitWhere(tb testing.TB, typ string, ok func(data json.RawMessage) bool) wsFrame {
	tb.Helper()
	for {
		if f := s.awaitType(tb, typ); ok(f.Data) {
			return f
		}
	}
}

// closedAfter waits for the server to close s and returns the close code
// and whether a message of type typ came before the close.
func (s *stream) closedAfter(tb testing.TB, typ string) (websocket.StatusCode, bool) {
	tb.Helper()
	seen := false
	for {
		select {
		case f := <-s.msgs:
			seen = seen || f.Type == typ
		case err := <-s.end: // every message before the close is queued by now
			for {
				select {
				case f := <-s.msgs:
					seen = seen || f.Type == typ
				default:
					return websocket.CloseStatus(err), seen
				}
			}
		case <-time.After(wsWait):
			tb.Fatal("stream not closed")
		}
	}
}

// TestStreamDocumentedEvents: the documented server-to-client message
// types whose events netkeep's facets make reach a subscriber of
// /api/v1/ws when they happen, with the documented data: device_paired,
// discovery, health_change, and device_revoked, after which the revoked
// device's own socket is closed. A subscriber of another group hears none
// of them. (config_reload: reload_test.go; webhook:
// TestStreamDeliversChanges; the container types: internal/server's
// container tests, on a real engine.)
func TestStreamDocumentedEvents(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e := servertest.StartWith(t, kind, func(c *config.Config) {
				c.HealthInterval, c.HealthTimeout = 300*time.Millisecond, 300*time.Millisecond
			})
			acme := e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
			e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
			alice, _ := e.Login(t, "alice", "password1")
			bob, _ := e.Login(t, "bob", "password1")
			admin, other := listen(t, e, alice), listen(t, e, bob)
			as := servertest.Bearer(alice)

			phoneToken := pairDevice(t, e, alice, "stream-phone")
			var paired struct{ DeviceID, DeviceName, Platform string }
			_ = json.Unmarshal(admin.awaitType(t, "device_paired").Data, &paired)
			if paired.DeviceID != "stream-phone" || paired.DeviceName != "Pixel 9" || paired.Platform != "android" {
				t.Errorf("device_paired %+v", paired)
			}
			phone := listen(t, e, phoneToken)

			cat := e.Server.Catalog
			cat.EnableDiscovery("docker", noScan{}, func(context.Context) (int64, error) { return acme.GroupID, nil })
			defer cat.DisableDiscovery()
			if err := cat.Observe(context.Background(), catalog.Sighting{Source: "docker", Key: "grafana", Name: "grafana",
				Image: "grafana/grafana:latest", Labels: map[string]string{"nekzus.enable": "true"},
				Ports: []catalog.SightedPort{{Port: 3000}}}); err != nil {
				t.Fatal(err)
			}
			var proposal struct {
				ID, Source   string
				DetectedPort int
			}
			_ = json.Unmarshal(admin.awaitType(t, "discovery").Data, &proposal)
			listed := e.Do(t, "GET", "/api/v1/discovery/proposals", nil, as...)
			if proposal.Source != "docker" || proposal.DetectedPort != 3000 || proposal.ID == "" ||
				!strings.Contains(string(listed.Raw), `"id":"`+proposal.ID+`"`) {
				t.Errorf("discovery %+v, proposals %s", proposal, listed.Raw)
			}

			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
			defer up.Close()
			if r := e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "stream-app", "to": up.URL}, as...); r.Status != 201 {
				t.Fatalf("route: %d %s", r.Status, r.Raw)
			}
			health := func(status, previous string) func(json.RawMessage) bool {
				return func(data json.RawMessage) bool {
					var h catalog.HealthChange
					_ = json.Unmarshal(data, &h)
					return h.AppID == "stream-app" && h.Status == status && (previous == "" || h.PreviousStatus == previous) &&
						!h.LastCheck.IsZero()
				}
			}
			admin.awaitWhere(t, "health_change", health("healthy", ""))
			up.Close()
			admin.awaitWhere(t, "health_change", health("unhealthy", "healthy"))

			if r := e.Do(t, "DELETE", "/api/v1/devices/stream-phone", nil, as...); r.Status != 200 {
				t.Fatalf("revoke: %d %s", r.Status, r.Raw)
			}
			if code, told := phone.closedAfter(t, "device_revoked"); code != websocket.StatusPolicyViolation || !told {
				t.Errorf("the revoked device's socket closed with %d, told first: %v", code, told)
			}
			var revoked struct{ DeviceID, Message string }
			_ = json.Unmarshal(admin.awaitType(t, "device_revoked").Data, &revoked)
			if revoked.DeviceID != "stream-phone" || revoked.Message == "" {
				t.Errorf("device_revoked %+v", revoked)
			}

			// Bob's first message is his own group's notification: none of
			// acme's events reached him.
			if r := e.Do(t, "POST", "/api/v1/webhooks/notify", map[string]any{"data": map[string]any{"mine": true}}, servertest.Bearer(bob)...); r.Status != 200 {
				t.Fatalf("notify as bob: %d %s", r.Status, r.Raw)
			}
			other.expect(t, "webhook")
		})
	}
}
