package nekzus_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/api/apitest"
	"netkeep/internal/catalog"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// appsWorld is a server with an admin and a USER in group A and an admin
// in group B, and an upstream web application.
type appsWorld struct {
	e              *servertest.Env
	adminA, userA  []string // Authorization headers
	adminB         []string
	upstream       *httptest.Server
	faviconFetches atomic.Int32
}

// favicon is a 1x1 PNG's first bytes: enough for content sniffing.
var favicon = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01")

func newAppsWorld(t *testing.T, e *servertest.Env) *appsWorld {
	t.Helper()
	w := &appsWorld{e: e}
	e.CreateUser(t, "apps-admin-a", "password1", identity.GroupAdmin, "A")
	e.CreateUser(t, "apps-user-a", "password1", identity.RoleUser, "A")
	e.CreateUser(t, "apps-admin-b", "password1", identity.GroupAdmin, "B")
	for _, u := range []struct {
		name string
		hdr  *[]string
	}{{"apps-admin-a", &w.adminA}, {"apps-user-a", &w.userA}, {"apps-admin-b", &w.adminB}} {
		tok, _ := e.Login(t, u.name, "password1")
		*u.hdr = servertest.Bearer(tok)
	}
	w.upstream = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.faviconFetches.Add(1)
			rw.Header().Set("Content-Type", "image/png")
			_, _ = rw.Write(favicon)
			return
		}
		_, _ = fmt.Fprintf(rw, "upstream %s", r.URL.Path)
	}))
	t.Cleanup(w.upstream.Close)
	return w
}

func (w *appsWorld) create(t *testing.T, appID string, extra map[string]any) *servertest.Response {
	t.Helper()
	body := map[string]any{"appId": appID, "name": strings.ToUpper(appID[:1]) + appID[1:], "icon": "chart-line",
		"tags": []string{"monitoring"}, "to": w.upstream.URL, "websocket": true}
	for k, v := range extra {
		body[k] = v
	}
	r := w.e.Do(t, "POST", "/api/v1/routes", body, w.adminA...)
	if r.Status != http.StatusCreated {
		t.Fatalf("creating %s: %d %s", appID, r.Status, r.Raw)
	}
	return r
}

// The catalog answers as the Nekzus document shows: apps with health and
// favicon URL, routes with healthInfo, PUT and DELETE on a route, health
// of one service; every change leaves an audit entry.
func TestAppsAndRoutesShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newAppsWorld(t, e)
		created := w.create(t, "grafana", nil)
		if created.JSON["routeId"] != "route_grafana" || created.JSON["pathBase"] != "/apps/grafana/" || created.JSON["stripPrefix"] != true {
			t.Fatalf("created route: %s", created.Raw)
		}
		e.Server.Catalog.CheckAll(context.Background(), e.Server.Upstreams, catalog.HealthCheck{Timeout: 5 * time.Second})
		apps := e.Do(t, "GET", "/api/v1/apps", nil, w.adminA...)
		routes := e.Do(t, "GET", "/api/v1/routes", nil, w.adminA...)
		health := e.Do(t, "GET", "/api/v1/services/grafana/health", nil, w.adminA...)
		put := e.Do(t, "PUT", "/api/v1/routes/route_grafana", map[string]any{"routeId": "route_grafana", "appId": "grafana",
			"pathBase": "/apps/grafana/", "to": w.upstream.URL + "/sub", "websocket": false, "icon": "gauge"}, w.adminA...)
		tests := []struct {
			name   string
			r      *servertest.Response
			status int
			golden string
		}{
			{"200/apps", apps, 200, "apps_list.json"},
			{"200/routes", routes, 200, "routes_list.json"},
			{"200/service health", health, 200, "services_health.json"},
			{"200/put route", put, 200, "routes_update.json"},
			{"404/health of unknown app", e.Do(t, "GET", "/api/v1/services/nope/health", nil, w.adminA...), 404, "error.json"},
			{"400/put moves the path", e.Do(t, "PUT", "/api/v1/routes/route_grafana", map[string]any{"pathBase": "/apps/other/"}, w.adminA...), 400, "error.json"},
			{"409/same app again", e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "grafana", "to": w.upstream.URL}, w.adminA...), 409, "error.json"},
			{"400/no upstream", e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "x"}, w.adminA...), 400, "error.json"},
			{"400/upstream not http", e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "x", "to": "file:///etc/passwd"}, w.adminA...), 400, "error.json"},
			{"400/bad app id", e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "../x", "to": w.upstream.URL}, w.adminA...), 400, "error.json"},
			{"400/peer- ids are reserved", e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "peer-0123456789ab-x", "to": w.upstream.URL}, w.adminA...), 400, "error.json"},
			{"400/unknown scope", e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "x", "to": w.upstream.URL, "scopes": []string{"eat:all"}}, w.adminA...), 400, "error.json"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", tc.r.Status, tc.status, tc.r.Raw)
				}
				apitest.AssertShape(t, tc.r.Raw, "testdata/seed/"+tc.golden)
			})
		}
		if app := apps.Array[0].(map[string]any); app["healthStatus"] != "healthy" || app["url"] != e.URL+"/apps/grafana/" ||
			app["faviconURL"] != "/api/v1/apps/grafana/favicon" {
			t.Errorf("app: %s", apps.Raw)
		}
		if health.JSON["statusCode"] != float64(200) || health.JSON["status"] != "healthy" {
			t.Errorf("health: %s", health.Raw)
		}
		if put.JSON["to"] != w.upstream.URL+"/sub" || put.JSON["websocket"] != false {
			t.Errorf("put: %s", put.Raw)
		}
		if a := e.Do(t, "GET", "/api/v1/apps", nil, w.adminA...); !strings.Contains(string(a.Raw), `"icon":"gauge"`) {
			t.Errorf("the icon of PUT did not reach the app: %s", a.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/v1/routes/route_grafana", nil, w.adminA...); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/apps", nil, w.adminA...); len(r.Array) != 0 {
			t.Errorf("apps after delete: %s", r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/v1/routes/route_grafana", nil, w.adminA...); r.Status != http.StatusNotFound {
			t.Errorf("second delete: %d", r.Status)
		}
		logs := e.Do(t, "GET", "/api/v1/audit-logs?limit=1000", nil, w.adminA...)
		for _, action := range []string{"app.create", "app.update", "app.delete"} {
			if !strings.Contains(string(logs.Raw), `"action":"`+action+`"`) {
				t.Errorf("no %s audit entry: %s", action, logs.Raw)
			}
		}
	})
}

// Another group's apps are invisible: not listed, not found, not changed;
// a USER reads but does not change the catalog.
func TestAppsGroupIsolation(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newAppsWorld(t, e)
		w.create(t, "grafana", nil)
		for _, c := range []struct {
			name, method, path string
			body               any
			hdr                []string
			status             int
		}{
			{"B lists nothing", "GET", "/api/v1/apps", nil, w.adminB, 200},
			{"B sees no favicon", "GET", "/api/v1/apps/grafana/favicon", nil, w.adminB, 404},
			{"B sees no health", "GET", "/api/v1/services/grafana/health", nil, w.adminB, 404},
			{"B cannot update", "PUT", "/api/v1/routes/route_grafana", map[string]any{"to": "http://evil.example"}, w.adminB, 404},
			{"B cannot delete", "DELETE", "/api/v1/routes/route_grafana", nil, w.adminB, 404},
			{"B cannot proxy", "GET", "/apps/grafana/", nil, w.adminB, 404},
			{"user reads", "GET", "/api/v1/routes", nil, w.userA, 200},
			{"user cannot update", "PUT", "/api/v1/routes/route_grafana", map[string]any{"to": "http://evil.example"}, w.userA, 403},
			{"user cannot delete", "DELETE", "/api/v1/routes/route_grafana", nil, w.userA, 403},
		} {
			r := e.Do(t, c.method, c.path, c.body, c.hdr...)
			if r.Status != c.status {
				t.Errorf("%s: %d, want %d (%s)", c.name, r.Status, c.status, r.Raw)
			}
			if c.name == "B lists nothing" && len(r.Array) != 0 {
				t.Errorf("B lists A's apps: %s", r.Raw)
			}
		}
		r := e.Do(t, "GET", "/api/v1/routes", nil, w.adminA...)
		if len(r.Array) != 1 || r.Array[0].(map[string]any)["to"] != w.upstream.URL {
			t.Errorf("A's route changed: %s", r.Raw)
		}
	})
}

// The favicon is fetched from the upstream once and then served from the
// store; an upstream without one gets a generated icon.
func TestFavicon(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newAppsWorld(t, e)
		w.create(t, "grafana", nil)
		for i := 0; i < 3; i++ {
			r := e.Do(t, "GET", "/api/v1/apps/grafana/favicon", nil, w.adminA...)
			if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || string(r.Raw) != string(favicon) {
				t.Fatalf("favicon %d: %d %q %q", i, r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
		}
		if n := w.faviconFetches.Load(); n != 1 {
			t.Errorf("upstream asked %d times for its favicon, want once", n)
		}
		none := httptest.NewServer(http.NotFoundHandler())
		defer none.Close()
		if r := e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "bare", "to": none.URL}, w.adminA...); r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		r := e.Do(t, "GET", "/api/v1/apps/bare/favicon", nil, w.adminA...)
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(r.Raw), ">B</text>") {
			t.Errorf("fallback: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
		}
	})
}
