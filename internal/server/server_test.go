package server_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// newServer builds a server over db with the default configuration (plus
// flags, if any), a local event bus and a cheap password hash. It is not
// started.
func newServer(tb testing.TB, db *store.DB, flags ...string) *server.Server {
	tb.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	args := append([]string{"--data-dir", tb.TempDir(), "--shutdown-timeout", "5s", "--docker-host", ""}, flags...)
	cfg, err := config.Bind(fs).Load(args, func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	root := make([]byte, 32)
	if _, err := rand.Read(root); err != nil {
		tb.Fatal(err)
	}
	keys, err := secret.Derive(root)
	if err != nil {
		tb.Fatal(err)
	}
	bus := event.NewLocal()
	tb.Cleanup(func() { bus.Close() })
	return server.New(server.Deps{
		Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DB: db, Keys: keys, Bus: bus,
		PasswordParams: identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
	})
}

// start starts srv's services until test end.
func start(tb testing.TB, srv *server.Server) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		srv.Close()
	})
}

type probe struct {
	name, path string
	status     int
	body       string // exact plain-text body, or the JSON error code for JSON answers
}

// check runs each probe against h.
func check(t *testing.T, h http.Handler, probes []probe) {
	t.Helper()
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p.path, nil))
			if w.Code != p.status {
				t.Fatalf("GET %s = %d, want %d; body %s", p.path, w.Code, p.status, w.Body)
			}
			if w.Header().Get("X-Request-Id") == "" || w.Header().Get("X-API-Version") == "" {
				t.Error("missing X-Request-Id or X-API-Version")
			}
			if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				if code := errorCode(t, w.Body.Bytes()); code != p.body {
					t.Errorf("error code = %q, want %q; body %s", code, p.body, w.Body)
				}
				return
			}
			if p.body != "" && strings.TrimSpace(w.Body.String()) != p.body {
				t.Errorf("body = %q, want %q", w.Body, p.body)
			}
		})
	}
}

// errorCode returns the machine code of either error envelope.
func errorCode(tb testing.TB, body []byte) string {
	tb.Helper()
	var e struct {
		Code  string `json:"code"`
		Error any    `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("not JSON: %s", body)
	}
	if inner, ok := e.Error.(map[string]any); ok {
		c, _ := inner["code"].(string)
		return c
	}
	return e.Code
}

// TestReadiness: until Start, only the probes and metrics answer and readyz
// says 503 (without a start hold, at once); afterwards readyz is 200 and
// the API routes.
func TestReadiness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := newServer(t, db, "--start-hold", "0")
		t.Run("before start", func(t *testing.T) {
			check(t, srv.Handler(), []probe{
				{"healthz", "/healthz", 200, "ok"},
				{"livez", "/livez", 200, "ok"},
				{"readyz", "/readyz", 503, "not ready"},
				{"metrics", "/metrics", 200, ""},
				{"api own", "/api/v1/groups", 503, "STORAGE_UNAVAILABLE"},
				{"api netkey", "/api/v1/psks", 503, "STORAGE_UNAVAILABLE"},
				{"unknown path", "/nothing", 503, "STORAGE_UNAVAILABLE"},
			})
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/groups", nil))
			if ra := w.Header().Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After = %q while starting, want 1", ra)
			}
		})
		start(t, srv)
		t.Run("after start", func(t *testing.T) {
			check(t, srv.Handler(), []probe{
				{"healthz", "/healthz", 200, "ok"},
				{"readyz", "/readyz", 200, "ok"},
				{"unknown path", "/nothing", 404, "NOT_FOUND"},
				{"unknown netkey path", "/api/v1/psks/1/no-such-thing", 404, "NOT_FOUND"},
				{"unknown gatekey path", "/api/v1/pki/no-such/thing", 404, "not_found"},
			})
		})
	})
}

// TestStartHold: a request arriving while the server starts waits for
// Start and is then served (here 401, the route's own answer); one still
// waiting when the hold ends gets 503 with Retry-After, as without a hold.
func TestStartHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Run("served once ready", func(t *testing.T) {
			srv := newServer(t, db, "--start-hold", "1m")
			done := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				w := httptest.NewRecorder()
				srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/groups", nil))
				done <- w
			}()
			// The probes are never held.
			check(t, srv.Handler(), []probe{{"readyz", "/readyz", 503, "not ready"}})
			select {
			case w := <-done:
				t.Fatalf("answered %d before Start", w.Code)
			default:
			}
			start(t, srv)
			if w := <-done; w.Code != http.StatusUnauthorized {
				t.Fatalf("held request answered %d after Start, want 401: %s", w.Code, w.Body)
			}
		})
		t.Run("503 after the hold", func(t *testing.T) {
			srv := newServer(t, db, "--start-hold", "20ms")
			check(t, srv.Handler(), []probe{{"api own", "/api/v1/groups", 503, "STORAGE_UNAVAILABLE"}})
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/psks", nil))
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
				t.Fatalf("after the hold: %d, Retry-After %q; want 503, 1", w.Code, w.Header().Get("Retry-After"))
			}
		})
	})
}

// TestStartHoldFailedStart: a failed Start releases the requests it held
// with 503 at once rather than at the end of the hold (an hour here: the
// test's deadline would fail it).
func TestStartHoldFailedStart(t *testing.T) {
	srv := newServer(t, storetest.Open(t, config.SQLite), "--start-hold", "1h", "--apps-file", filepath.Join(t.TempDir(), "missing.yaml"))
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/groups", nil))
		done <- w
	}()
	err := srv.Start(context.Background())
	defer srv.Close()
	if err == nil {
		t.Fatal("Start succeeded without its apps file")
	}
	if w := <-done; w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("held request after a failed Start: %d, Retry-After %q; want 503, 1", w.Code, w.Header().Get("Retry-After"))
	}
}

// TestProbesWithDatabaseDown: healthz and readyz report an unreachable
// database (by name, not error text); livez stays up.
func TestProbesWithDatabaseDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv := newServer(t, db)
		start(t, srv)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		check(t, srv.Handler(), []probe{
			{"healthz", "/healthz", 503, "unhealthy: database"},
			{"readyz", "/readyz", 503, "not ready"},
			{"livez", "/livez", 200, "ok"},
		})
	})
}

func TestProbeRoutesArePublic(t *testing.T) {
	srv := newServer(t, storetest.Open(t, config.SQLite))
	access := map[string]api.Access{}
	for _, r := range srv.Routes() {
		access[r.Pattern] = r.Access
	}
	for _, p := range []string{"GET /healthz", "GET /livez", "GET /readyz", "GET /metrics"} {
		a, ok := access[p]
		if !ok {
			t.Errorf("route %q not registered", p)
		} else if a != api.Public {
			t.Errorf("route %q has access %v, want Public", p, a)
		}
	}
}

// TestServeStopsOnCancel: Serve answers on its listener and returns nil once
// its context is cancelled.
func TestServeStopsOnCancel(t *testing.T) {
	srv := newServer(t, storetest.Open(t, config.SQLite))
	start(t, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + ln.Addr().String() + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /livez = %d", resp.StatusCode)
	}
	c.CloseIdleConnections()

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of cancel")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener still accepts after Serve returned")
	}
}

// Close may be called more than once (a deferred Close after an explicit
// one on shutdown): the second call does nothing and does not panic.
func TestCloseTwice(t *testing.T) {
	t.Parallel()
	srv := newServer(t, storetest.Open(t, config.SQLite))
	start(t, srv) // its cleanup closes once more
	srv.Close()
	srv.Close()
}
