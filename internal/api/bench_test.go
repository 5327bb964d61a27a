package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"netkeep/internal/api"
)

// BenchmarkRequestPath measures what the shared middleware and router cost a
// request, without the network: the same minimal JSON handler served bare and
// behind api.Wrap + api.Router (request id, headers, body limit, recovery,
// metrics, a text log line to io.Discard), plus an unknown path answered with
// the 404 envelope. Results are recorded in bench/README.md.
func BenchmarkRequestPath(b *testing.B) {
	okJSON := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	rt := api.NewRouter(&api.Authenticator{})
	rt.Handle("GET /api/v1/ping", api.Public, okJSON)
	wrapped := api.Wrap(rt, api.Options{
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:      api.NewMetrics(),
		MaxBodyBytes: 1 << 20,
	})
	cases := []struct {
		name    string
		handler http.Handler
		path    string
		status  int
	}{
		{"bare", okJSON, "/api/v1/ping", http.StatusOK},
		{"wrapped", wrapped, "/api/v1/ping", http.StatusOK},
		{"wrapped_404", wrapped, "/api/v1/nothing", http.StatusNotFound},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, c.path, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c.handler.ServeHTTP(w, req)
				if w.Code != c.status {
					b.Fatalf("status %d, want %d", w.Code, c.status)
				}
			}
		})
	}
}
