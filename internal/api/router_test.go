package api_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// newTestRouter is a router with a few public routes across dialects.
func newTestRouter() *api.Router {
	rt := api.NewRouter(&api.Authenticator{})
	echo := func(w http.ResponseWriter, r *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]string{"route": r.Pattern, "id": r.PathValue("id")})
	}
	rt.HandleFunc("GET /api/v1/psks/{id}", api.Public, echo)
	rt.HandleFunc("POST /api/v1/psks", api.Public, echo)
	rt.HandleFunc("GET /api/v1/admin/users", api.Public, echo)
	rt.HandleFunc("GET /api/v1/groups", api.Public, echo)
	rt.HandleFunc("GET /api/v1/apps/", api.Public, echo)
	return rt
}

func TestRouter(t *testing.T) {
	rt := newTestRouter()
	tests := []struct {
		name, method, path string
		status             int
		allow, location    string
		want               string // exact JSON body; "" to skip
	}{
		{name: "200/path value", method: "GET", path: "/api/v1/psks/7", status: 200,
			want: `{"route": "GET /api/v1/psks/{id}", "id": "7"}`},
		{name: "200/HEAD served by GET", method: "HEAD", path: "/api/v1/groups", status: 200},
		{name: "404/netkey", method: "GET", path: "/api/v1/psks/7/nope", status: 404,
			want: `{"success": false, "error": "no route for GET /api/v1/psks/7/nope", "code": "NOT_FOUND"}`},
		{name: "404/gatekey", method: "GET", path: "/api/v1/pki/crl", status: 404,
			want: `{"error": {"code": "not_found", "message": "no route for GET /api/v1/pki/crl"}}`},
		{name: "404/nekzus", method: "POST", path: "/api/v1/devices", status: 404,
			want: `{"error": {"code": "NOT_FOUND", "message": "no route for POST /api/v1/devices"}}`},
		{name: "404/own", method: "GET", path: "/nothing/here", status: 404,
			want: `{"error": {"code": "NOT_FOUND", "message": "no route for GET /nothing/here"}}`},
		{name: "405/netkey item", method: "DELETE", path: "/api/v1/psks/7", status: 405, allow: "GET, HEAD",
			want: `{"success": false, "error": "method DELETE not allowed; allowed: GET, HEAD", "code": "METHOD_NOT_ALLOWED"}`},
		{name: "405/netkey collection", method: "GET", path: "/api/v1/psks", status: 405, allow: "POST",
			want: `{"success": false, "error": "method GET not allowed; allowed: POST", "code": "METHOD_NOT_ALLOWED"}`},
		{name: "405/gatekey", method: "PUT", path: "/api/v1/admin/users", status: 405, allow: "GET, HEAD",
			want: `{"error": {"code": "method_not_allowed", "message": "method PUT not allowed; allowed: GET, HEAD"}}`},
		{name: "405/own", method: "POST", path: "/api/v1/groups", status: 405, allow: "GET, HEAD",
			want: `{"error": {"code": "METHOD_NOT_ALLOWED", "message": "method POST not allowed; allowed: GET, HEAD"}}`},
		{name: "307/subtree without slash", method: "GET", path: "/api/v1/apps", status: http.StatusTemporaryRedirect, location: "/api/v1/apps/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("%s %s = %d, want %d; body %s", tt.method, tt.path, w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if tt.status >= 400 {
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			}
			if tt.want != "" {
				assertJSON(t, w.Body.Bytes(), tt.want)
			}
		})
	}
}

func TestRouterRoutes(t *testing.T) {
	rt := api.NewRouter(&api.Authenticator{})
	h := http.NotFoundHandler()
	rt.Handle("GET /readyz", api.Public, h)
	rt.Handle("POST /api/v1/gateway/heartbeat", api.Custom, h)
	rt.Handle("DELETE /api/v1/psks/{id}", api.Public, h)
	want := []api.Route{
		{Pattern: "DELETE /api/v1/psks/{id}", Access: api.Public},
		{Pattern: "GET /readyz", Access: api.Public},
		{Pattern: "POST /api/v1/gateway/heartbeat", Access: api.Custom},
	}
	if got := rt.Routes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Routes() = %+v\nwant     %+v", got, want)
	}
}

// A route's errors follow the dialect it was registered with, not the prefix
// its path shares with another dialect's routes.
func TestRouterOwnershipPerRoute(t *testing.T) {
	rt := api.NewRouter(&api.Authenticator{})
	fail := func(w http.ResponseWriter, r *http.Request) {
		api.Error(w, r, fault.New(fault.NotFound, "nothing here"))
	}
	rt.As(api.Nekzus).HandleFunc("GET /api/v1/admin/info", api.Public, fail)
	rt.As(api.GateKey).HandleFunc("GET /api/v1/admin/users", api.Public, fail)
	rt.As(api.Nekzus).HandleFunc("GET /api/v1/admin/users/{id}/secret", api.Authenticated, fail)
	tests := []struct{ name, path, want string }{
		{"nekzus route under gatekey prefix", "/api/v1/admin/info",
			`{"error": {"code": "NOT_FOUND", "message": "nothing here"}}`},
		{"gatekey route", "/api/v1/admin/users",
			`{"error": {"code": "not_found", "message": "nothing here"}}`},
		{"401 of an authenticated route in its dialect", "/api/v1/admin/users/1/secret",
			`{"error": {"code": "UNAUTHORIZED", "message": "authentication required"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			api.Wrap(rt, api.Options{}).ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			assertJSON(t, w.Body.Bytes(), tt.want)
		})
	}
	routes := rt.Routes()
	if routes[0].Dialect != api.Nekzus || routes[1].Dialect != api.GateKey || routes[2].Dialect != api.Nekzus {
		t.Errorf("Routes() dialects = %+v", routes)
	}
}
