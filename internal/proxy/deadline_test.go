package proxy_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/catalog"
	"netkeep/internal/proxy"
)

// TestStreamsOutliveServerTimeouts: the server's read and write deadlines
// are lifted for an answer that streams (here Server-Sent Events lasting
// several times the server's timeouts), and only then: a plain answer is
// served with the deadlines in place.
func TestStreamsOutliveServerTimeouts(t *testing.T) {
	t.Parallel()
	const serverTimeout = 300 * time.Millisecond
	const events = 12 // at 100 ms each: four times the timeout
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/events" {
			_, _ = io.WriteString(w, "plain")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range events {
			if _, err := io.WriteString(w, "data: "+string(rune('a'+i))+"\n\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			<-tick.C
		}
	}))
	defer up.Close()
	e := catalog.Entry{App: &catalog.App{ID: "sse", GroupID: 1},
		Route: &catalog.Route{ID: "route_sse", AppID: "sse", GroupID: 1, To: up.URL, StripPrefix: true,
			Scopes: catalog.DefaultScopes, Auth: catalog.AuthPublic, Timeout: 10 * time.Second, Status: catalog.StatusActive, UpdatedAt: time.Now()}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	rt := api.NewRouter(&api.Authenticator{})
	rt.As(api.Nekzus).Handle("/apps/{appId}/", api.Custom, proxy.New(oneRoute(e), proxy.Options{Logger: quiet}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api.Wrap(rt, api.Options{Logger: quiet, MaxBodyBytes: 1 << 20}),
		ReadTimeout: serverTimeout, WriteTimeout: serverTimeout}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/apps/sse"

	res, err := http.Get(base + "/plain")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "plain" {
		t.Fatalf("plain answer: %d %q", res.StatusCode, body)
	}

	res, err = http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			got++
		}
	}
	if got != events {
		t.Fatalf("%d of %d events arrived before the stream ended (%v)", got, events, sc.Err())
	}
}
