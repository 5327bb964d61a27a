package nekzus_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"netkeep/internal/server/servertest"
)

// TestProxyH2CUpstream: a route to an h2c:// upstream is forwarded over
// HTTP/2 without TLS, and its health probe reaches it the same way; an
// upstream URL of another scheme is refused.
func TestProxyH2CUpstream(t *testing.T) {
	t.Parallel()
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.URL.Path)
	}))
	up.Config.Protocols = new(http.Protocols)
	up.Config.Protocols.SetHTTP1(true)
	up.Config.Protocols.SetUnencryptedHTTP2(true)
	up.Start()
	t.Cleanup(up.Close)
	h2cURL := "h2c://" + strings.TrimPrefix(up.URL, "http://")

	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	route(t, e, w.adminA, "grpcweb", h2cURL, nil)
	route(t, e, w.adminA, "plain", up.URL, nil)
	for _, tc := range []struct{ app, want string }{
		{"grpcweb", "HTTP/2.0 /call"},
		{"plain", "HTTP/1.1 /call"},
	} {
		if r := e.Do(t, "GET", "/apps/"+tc.app+"/call", nil, w.adminA...); r.Status != 200 || string(r.Raw) != tc.want {
			t.Errorf("%s: %d %q, want %q", tc.app, r.Status, r.Raw, tc.want)
		}
	}
	if code, err := e.Server.Upstreams.Probe(context.Background(), h2cURL); err != nil || code != 200 {
		t.Errorf("health probe of the h2c upstream: %d %v", code, err)
	}
	r := e.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "ftp", "to": "ftp://127.0.0.1:21"}, w.adminA...)
	if r.Status != 400 || !strings.Contains(string(r.Raw), "h2c://") {
		t.Errorf("ftp upstream: %d %s", r.Status, r.Raw)
	}
}
