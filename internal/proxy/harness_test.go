package proxy_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/catalog"
	"netkeep/internal/proxy"
)

// serveApp serves the proxy behind the shared middleware and router, as
// netkeep does, with one public app "app" whose route goes to to; it
// returns the server's address.
func serveApp(tb testing.TB, to string, edit func(*catalog.Route)) string {
	tb.Helper()
	return serveAppTimeouts(tb, to, edit, time.Minute)
}

// serveAppTimeouts is serveApp with the server's read and write timeouts.
func serveAppTimeouts(tb testing.TB, to string, edit func(*catalog.Route), serverTimeout time.Duration) string {
	tb.Helper()
	r := &catalog.Route{ID: "route_app", AppID: "app", GroupID: 1, To: to, StripPrefix: true, WebSocket: true,
		Scopes: catalog.DefaultScopes, Auth: catalog.AuthPublic, Timeout: 10 * time.Second, Status: catalog.StatusActive, UpdatedAt: time.Now()}
	if edit != nil {
		edit(r)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	rt := api.NewRouter(&api.Authenticator{})
	rt.As(api.Nekzus).Handle("/apps/{appId}/", api.Custom, proxy.New(oneRoute(catalog.Entry{App: &catalog.App{ID: "app", GroupID: 1}, Route: r}), proxy.Options{Logger: quiet}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: api.Wrap(rt, api.Options{Logger: quiet, MaxBodyBytes: 1 << 20}),
		ReadTimeout: serverTimeout, WriteTimeout: serverTimeout}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// rawUpstream accepts connections and hands each to serve; it returns the
// base URL and counts the connections made.
func rawUpstream(tb testing.TB, serve func(c net.Conn, br *bufio.Reader)) (string, func() int) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	conns := make(chan struct{}, 1024)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- struct{}{}
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String(), func() int { return len(conns) }
}

// rawExchange sends raw bytes on a new connection to addr and returns all
// the server sent until it closed the connection or went quiet for a
// second.
func rawExchange(tb testing.TB, addr, raw string) string {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func get(tb testing.TB, client *http.Client, url string) (int, string) {
	tb.Helper()
	res, err := client.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, string(body)
}
