package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"netkeep/internal/api"
)

// testOptions are the middleware options of these tests: a discarding
// logger, fresh metrics and a 1 MiB body limit.
func testOptions() api.Options {
	return api.Options{Logger: slog.New(slog.DiscardHandler), Metrics: api.NewMetrics(), MaxBodyBytes: 1 << 20}
}

// serve runs one request through h and returns the recorder.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestWrapHeaders(t *testing.T) {
	var seen string
	h := api.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = api.RequestID(r.Context())
	}), testOptions())

	first := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
	id := first.Header().Get("X-Request-Id")
	if !generatedID.MatchString(id) {
		t.Errorf("generated X-Request-Id %q is not 24 hex digits", id)
	}
	if seen != id {
		t.Errorf("RequestID(ctx) = %q, header %q", seen, id)
	}
	if v := first.Header().Get("X-API-Version"); v != api.Version || v == "" {
		t.Errorf("X-API-Version = %q, want %q", v, api.Version)
	}
	second := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
	if second.Header().Get("X-Request-Id") == id {
		t.Error("two requests got the same generated id")
	}
}

// TestWrapIncomingRequestID: a caller's plain, short id is kept (so logs
// correlate across services); anything else is replaced.
func TestWrapIncomingRequestID(t *testing.T) {
	tests := []struct {
		name, incoming string
		kept           bool
	}{
		{"uuid", "3f2b8c1e-6a4d-4f7e-9b2a-1c3d5e7f9a0b", true},
		{"letters digits dot underscore", "req_42.A-b", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"space", "a b", false},
		{"header injection", "a\r\nSet-Cookie: x=y", false},
		{"markup", "<script>", false},
		{"non-ASCII", "idé", false},
	}
	h := api.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), testOptions())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r.Header["X-Request-Id"] = []string{tt.incoming}
			got := serve(h, r).Header().Get("X-Request-Id")
			switch {
			case tt.kept && got != tt.incoming:
				t.Errorf("X-Request-Id = %q, want the caller's %q", got, tt.incoming)
			case !tt.kept && !generatedID.MatchString(got):
				t.Errorf("X-Request-Id = %q, want a generated id replacing %q", got, tt.incoming)
			}
		})
	}
}

func TestWrapPanic(t *testing.T) {
	tests := []struct {
		name, path string
		handler    http.HandlerFunc
		status     int
		want       string // exact JSON body; "" to skip
	}{
		{"own path", "/api/v1/groups", func(http.ResponseWriter, *http.Request) { panic("boom: secret-detail") },
			500, `{"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}`},
		{"netkey path", "/api/v1/psks", func(http.ResponseWriter, *http.Request) { panic("boom: secret-detail") },
			500, `{"success": false, "error": "internal error", "code": "INTERNAL_ERROR"}`},
		{"gatekey path", "/api/v1/admin/users", func(http.ResponseWriter, *http.Request) { panic("boom: secret-detail") },
			500, `{"error": {"code": "internal", "message": "internal error"}}`},
		{"after the header was written", "/api/v1/groups", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			panic("boom: secret-detail")
		}, 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logged := bufferLogger()
			o := testOptions()
			o.Logger = log
			w := serve(api.Wrap(tt.handler, o), httptest.NewRequest(http.MethodGet, tt.path, nil))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.want != "" {
				assertJSON(t, w.Body.Bytes(), tt.want)
			} else if w.Body.Len() != 0 {
				t.Errorf("an envelope was appended to a started response: %s", w.Body)
			}
			if strings.Contains(w.Body.String(), "secret-detail") {
				t.Errorf("body leaks the panic value: %s", w.Body)
			}
			id := w.Header().Get("X-Request-Id")
			if !strings.Contains(logged.String(), "secret-detail") || !strings.Contains(logged.String(), id) {
				t.Errorf("panic not logged with its value and request id %s:\n%s", id, logged)
			}
		})
	}
}

// TestWrapAbortHandler: http.ErrAbortHandler is the server's own signal to
// abort a response and must pass through the recovery.
func TestWrapAbortHandler(t *testing.T) {
	h := api.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }), testOptions())
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-raised", p)
		}
	}()
	serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
}

// TestWrapBodyLimit: bodies past MaxBodyBytes fail api.Decode with 413 in the
// path's envelope.
func TestWrapBodyLimit(t *testing.T) {
	decodeEcho := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := api.Decode(r, &v); err != nil {
			api.Error(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, v)
	})
	small := `{"name":"ok"}`
	big := `{"name":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		name, path, body string
		limit            int64
		status           int
		want             string
	}{
		{"under the limit", "/api/v1/groups", small, 64, 200, small},
		{"over the limit/own", "/api/v1/groups", big, 64, 413,
			`{"error": {"code": "TOO_LARGE", "message": "request body exceeds 64 bytes"}}`},
		{"over the limit/netkey", "/api/v1/psks", big, 64, 413,
			`{"success": false, "error": "request body exceeds 64 bytes", "code": "TOO_LARGE"}`},
		{"over the limit/gatekey", "/api/v1/admin/users", big, 64, 413,
			`{"error": {"code": "too_large", "message": "request body exceeds 64 bytes"}}`},
		{"no limit configured", "/api/v1/groups", big, 0, 200, big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			o.MaxBodyBytes = tt.limit
			w := serve(api.Wrap(decodeEcho, o), httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body)))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			assertJSON(t, w.Body.Bytes(), tt.want)
		})
	}
}

func TestWrapClientIP(t *testing.T) {
	tests := []struct {
		name, remote, xff string
		trust             bool
		want              string
	}{
		{"remote address", "192.0.2.1:5555", "", false, "192.0.2.1"},
		{"IPv6 remote", "[2001:db8::1]:5555", "", false, "2001:db8::1"},
		{"forwarded header ignored by default", "192.0.2.1:5555", "203.0.113.9", false, "192.0.2.1"},
		{"forwarded header trusted", "192.0.2.1:5555", "203.0.113.9", true, "203.0.113.9"},
		{"the proxy's entry is the last: earlier ones are the client's claims", "192.0.2.1:5555", "127.0.0.1, 203.0.113.9", true, "203.0.113.9"},
		{"garbage forwarded header", "192.0.2.1:5555", "not-an-ip", true, "192.0.2.1"},
		{"garbage last entry: the claims before it are not believed", "192.0.2.1:5555", "127.0.0.1, not-an-ip", true, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			o := testOptions()
			o.TrustProxyHeaders = tt.trust
			h := api.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = api.ClientIP(r.Context()) }), o)
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			serve(h, r)
			if got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestWrapMetricsAndLog: each request is counted by route pattern and status
// and logged once with its request id.
func TestWrapMetricsAndLog(t *testing.T) {
	log, logged := bufferLogger()
	o := testOptions()
	o.Logger = log
	h := api.Wrap(newTestRouter(), o)
	requests := []struct{ method, path string }{
		{"GET", "/api/v1/groups"},
		{"GET", "/api/v1/groups"},
		{"GET", "/api/v1/psks/1"},
		{"GET", "/nothing"},
		{"POST", "/api/v1/groups"},
	}
	for _, rq := range requests {
		serve(h, httptest.NewRequest(rq.method, rq.path, nil))
	}

	body := serve(o.Metrics.Handler(), httptest.NewRequest(http.MethodGet, "/metrics", nil)).Body.String()
	for _, want := range []string{
		`netkeep_http_requests_total{route="GET /api/v1/groups",status="200"} 2`,
		`netkeep_http_requests_total{route="GET /api/v1/psks/{id}",status="200"} 1`,
		`netkeep_http_requests_total{route="unmatched",status="404"} 1`,
		`netkeep_http_requests_total{route="unmatched",status="405"} 1`,
		`netkeep_http_request_duration_seconds_count{route="GET /api/v1/groups"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}

	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != len(requests) {
		t.Fatalf("%d log lines for %d requests:\n%s", len(lines), len(requests), logged)
	}
	for _, want := range []string{"msg=request", "method=GET", `route="GET /api/v1/groups"`, "status=200", "request_id=", "duration="} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %s", lines[0], want)
		}
	}
}

// TestLoggerFrom: handlers get the middleware's logger; outside a request
// the default logger.
func TestLoggerFrom(t *testing.T) {
	log, logged := bufferLogger()
	o := testOptions()
	o.Logger = log
	h := api.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		api.LoggerFrom(r.Context()).Info("from handler")
	}), o)
	serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
	if !strings.Contains(logged.String(), "from handler") {
		t.Errorf("handler log line missing:\n%s", logged)
	}
	if api.LoggerFrom(httptest.NewRequest(http.MethodGet, "/", nil).Context()) != slog.Default() {
		t.Error("LoggerFrom outside a request is not slog.Default()")
	}
}
