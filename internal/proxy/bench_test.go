package proxy_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/catalog"
	"netkeep/internal/proxy"
)

type oneRoute catalog.Entry

func (o oneRoute) Lookup(appID string) (catalog.Entry, bool) {
	return catalog.Entry(o), appID == o.App.ID
}

// cpuTime is the process's user and system CPU time so far. Per request it
// is a figure the other programs sharing the machine barely move, unlike
// the wall time (client, proxy and upstream are all in this process).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProxy measures a request through the proxy behind the shared
// middleware and router, over loopback with keep-alive, to an upstream
// answering 1 KiB: what netkeep adds to a request that goes direct.
func BenchmarkProxy(b *testing.B) {
	body := bytes.Repeat([]byte("a"), 1<<10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	defer up.Close()
	now := time.Now()
	e := catalog.Entry{App: &catalog.App{ID: "bench", GroupID: 1},
		Route: &catalog.Route{ID: "route_bench", AppID: "bench", GroupID: 1, To: up.URL, StripPrefix: true,
			Scopes: catalog.DefaultScopes, Auth: catalog.AuthPublic, Timeout: 30 * time.Second, Status: catalog.StatusActive, UpdatedAt: now}}
	rt := api.NewRouter(&api.Authenticator{})
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	px := proxy.New(oneRoute(e), proxy.Options{Logger: quiet})
	rt.As(api.Nekzus).Handle("/apps/{appId}/", api.Custom, px)
	srv := httptest.NewServer(api.Wrap(rt, api.Options{Logger: quiet, Metrics: api.NewMetrics(), MaxBodyBytes: 1 << 20}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := srv.URL + "/apps/bench/x"
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	defer func() { b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}
