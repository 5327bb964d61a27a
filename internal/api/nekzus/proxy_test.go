package nekzus_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/server/servertest"
)

// seen is what the echo upstream reports about the request it got.
type seen struct {
	Method, Path, Query, Host string
	Header                    http.Header
}

// echoUpstream answers every request with what it saw, as JSON.
func echoUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header})
	}))
	t.Cleanup(s.Close)
	return s
}

func route(t *testing.T, e *servertest.Env, hdr []string, appID, to string, extra map[string]any) {
	t.Helper()
	body := map[string]any{"appId": appID, "to": to}
	for k, v := range extra {
		body[k] = v
	}
	if r := e.Do(t, "POST", "/api/v1/routes", body, hdr...); r.Status != http.StatusCreated {
		t.Fatalf("route %s: %d %s", appID, r.Status, r.Raw)
	}
}

func decodeSeen(t *testing.T, r *servertest.Response) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal(r.Raw, &s); err != nil {
		t.Fatalf("upstream answer %d %s: %v", r.Status, r.Raw, err)
	}
	return s
}

// The proxy forwards to the route's upstream alone, stripping the prefix
// (or not), with the forwarding headers, and without netkeep's own
// credentials; the caller's Host header and absolute-form request lines
// choose nothing.
func TestProxyForwarding(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	up := echoUpstream(t)
	route(t, e, w.adminA, "echo", up.URL+"/base", nil)
	route(t, e, w.adminA, "keep", up.URL, map[string]any{"stripPrefix": false})
	web := e.WebSession(t, "apps-admin-a", "password1")

	s := decodeSeen(t, e.Do(t, "GET", "/apps/echo/a/b?x=1", nil, append(append([]string{}, w.adminA...), "Cookie", "netkeep_session="+web+"; theirs=1")...))
	u := strings.TrimPrefix(up.URL, "http://")
	for _, c := range []struct{ name, got, want string }{
		{"path", s.Path, "/base/a/b"},
		{"query", s.Query, "x=1"},
		{"host", s.Host, u},
		{"x-forwarded-for", s.Header.Get("X-Forwarded-For"), "127.0.0.1"},
		{"x-forwarded-host", s.Header.Get("X-Forwarded-Host"), strings.TrimPrefix(e.URL, "http://")},
		{"x-forwarded-proto", s.Header.Get("X-Forwarded-Proto"), "http"},
		{"x-forwarded-prefix", s.Header.Get("X-Forwarded-Prefix"), "/apps/echo"},
		{"forwarded", s.Header.Get("Forwarded"), "for=127.0.0.1;host=\"" + strings.TrimPrefix(e.URL, "http://") + "\";proto=http"},
		{"authorization", s.Header.Get("Authorization"), ""},
		{"cookie", s.Header.Get("Cookie"), "theirs=1"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if s := decodeSeen(t, e.Do(t, "GET", "/apps/keep/x", nil, w.adminA...)); s.Path != "/apps/keep/x" {
		t.Errorf("without stripping the upstream saw %q", s.Path)
	}
	if s := decodeSeen(t, e.Do(t, "GET", "/apps/echo/", nil, append(append([]string{}, w.adminA...), "Host", "evil.example")...)); s.Host != u {
		t.Errorf("a Host header chose the upstream host %q", s.Host)
	}

	// An absolute-form request line names another host: still the route's.
	other := echoUpstream(t)
	status, body := rawRequest(t, e.URL, "GET "+other.URL+"/apps/echo/z HTTP/1.1\r\nHost: "+strings.TrimPrefix(other.URL, "http://")+"\r\n"+
		"Authorization: "+w.adminA[1]+"\r\nConnection: close\r\n\r\n")
	if status != 200 || !strings.Contains(body, `"Path":"/base/z"`) || !strings.Contains(body, `"Host":"`+u+`"`) {
		t.Errorf("absolute-form: %d %s", status, body)
	}
	// Dot segments never leave the app: the router cleans the path first.
	status, body = rawRequest(t, e.URL, "GET /apps/echo/../../api/v1/routes HTTP/1.1\r\nHost: x\r\nAuthorization: "+w.adminA[1]+"\r\nConnection: close\r\n\r\n")
	if status == 200 || strings.Contains(body, "/base/") {
		t.Errorf("dot segments: %d %s", status, body)
	}
	status, body = rawRequest(t, e.URL, "GET /apps/echo/%2e%2e/%2e%2e/etc HTTP/1.1\r\nHost: x\r\nAuthorization: "+w.adminA[1]+"\r\nConnection: close\r\n\r\n")
	if status == 200 || strings.Contains(body, `"Path":"/etc"`) {
		t.Errorf("encoded dot segments: %d %s", status, body)
	}
	if r := e.Do(t, "GET", "/apps/nowhere/", nil, w.adminA...); r.Status != 404 || r.ErrorCode() != "APP_NOT_FOUND" {
		t.Errorf("unknown app: %d %s", r.Status, r.Raw)
	}
}

// rawRequest writes req on a new connection to base and returns the
// status and body.
func rawRequest(t *testing.T, base, req string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Each route's access mode: a credential with the route's scopes, local
// addresses, or anyone.
func TestProxyAccess(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	up := echoUpstream(t)
	route(t, e, w.adminA, "private", up.URL, nil)
	route(t, e, w.adminA, "admins", up.URL, map[string]any{"scopes": []string{"write:*"}})
	route(t, e, w.adminA, "lan", up.URL, map[string]any{"auth": "local"})
	route(t, e, w.adminA, "open", up.URL, map[string]any{"auth": "public"})
	k := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "n", "scopes": []string{"audit:read"}}, w.adminA...)
	narrow := []string{"X-API-Key", k.JSON["key"].(string)}
	c := e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "c", "scopes": []string{"read:catalog"}}, w.adminA...)
	catalogKey := []string{"X-API-Key", c.JSON["key"].(string)}
	web := servertest.Cookie(e.WebSession(t, "apps-admin-a", "password1"))
	for _, c := range []struct {
		name, path string
		hdr        []string
		status     int
		code       string
	}{
		{"401/no credential", "/apps/private/", nil, 401, "UNAUTHORIZED"},
		{"401/bad token", "/apps/private/", servertest.Bearer("nope"), 401, "UNAUTHORIZED"},
		{"200/user token", "/apps/private/", w.userA, 200, ""},
		{"200/session cookie", "/apps/private/", web, 200, ""},
		{"200/read:catalog key", "/apps/private/", catalogKey, 200, ""},
		{"403/key without the scope", "/apps/private/", narrow, 403, "FORBIDDEN"},
		{"403/user lacks write:*", "/apps/admins/", w.userA, 403, "FORBIDDEN"},
		{"200/admin has write:*", "/apps/admins/", w.adminA, 200, ""},
		{"404/other group", "/apps/private/", w.adminB, 404, "APP_NOT_FOUND"},
		{"200/local from loopback", "/apps/lan/", nil, 200, ""},
		{"200/public", "/apps/open/", nil, 200, ""},
	} {
		r := e.Do(t, "GET", c.path, nil, c.hdr...)
		if r.Status != c.status || (c.code != "" && r.ErrorCode() != c.code) {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
		}
	}
	// A public route passes the caller's own Authorization on (the upstream's
	// business); a route netkeep authenticated never does.
	if s := decodeSeen(t, e.Do(t, "GET", "/apps/open/", nil, "Authorization", "Basic dTpw")); s.Header.Get("Authorization") != "Basic dTpw" {
		t.Errorf("public route dropped the upstream's credential: %v", s.Header)
	}
}

// Upstream down: 502; upstream slower than the route's timeout: 504; both
// in the Nekzus envelope.
func TestProxyUpstreamFailures(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	route(t, e, w.adminA, "down", down.URL, nil)
	route(t, e, w.adminA, "slow", slow.URL, map[string]any{"timeout": 0.2})
	if r := e.Do(t, "GET", "/apps/down/", nil, w.adminA...); r.Status != 502 || r.ErrorCode() != "BAD_GATEWAY" {
		t.Errorf("down: %d %s", r.Status, r.Raw)
	}
	if r := e.Do(t, "GET", "/apps/slow/", nil, w.adminA...); r.Status != 504 || r.ErrorCode() != "GATEWAY_TIMEOUT" {
		t.Errorf("slow: %d %s", r.Status, r.Raw)
	}
}

// WebSocket upgrades pass when the route allows them, and are refused
// otherwise.
func TestProxyWebSocket(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	echo := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(rw, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	}))
	t.Cleanup(echo.Close)
	route(t, e, w.adminA, "ws", echo.URL, map[string]any{"websocket": true})
	route(t, e, w.adminA, "nows", echo.URL, map[string]any{"websocket": false})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := http.Header{"Authorization": {w.adminA[1]}}
	c, _, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/apps/ws/socket", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i := range 3 {
		msg := "hello " + strconv.Itoa(i)
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != "echo:"+msg {
			t.Fatalf("echo %d: %q %v", i, got, err)
		}
	}
	_, res, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/apps/nows/socket", &websocket.DialOptions{HTTPHeader: hdr})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("upgrade on a route without websocket: %v %v", res, err)
	}
}

// Server-Sent Events arrive as the upstream sends them: the upstream waits
// for the client to have the first event before it sends the second.
func TestProxySSE(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	got := make(chan struct{})
	sse := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(rw, "data: one\n\n")
		rw.(http.Flusher).Flush()
		select {
		case <-got:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(rw, "data: two\n\n")
	}))
	t.Cleanup(sse.Close)
	route(t, e, w.adminA, "sse", sse.URL, nil)
	req, _ := http.NewRequest("GET", e.URL+"/apps/sse/events", nil)
	req.Header.Set("Authorization", w.adminA[1])
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "data: one\n" {
		t.Fatalf("first event: %q %v", line, err)
	}
	close(got)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest: %q", rest)
	}
}

// Bodies far over the API's body limit stream both ways.
func TestProxyLargeBodies(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	const size = 64 << 20
	big := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(rw, "%d %v", n, err)
			return
		}
		rw.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.CopyN(rw, zeros{}, size)
	}))
	t.Cleanup(big.Close)
	route(t, e, w.adminA, "big", big.URL, nil)
	req, _ := http.NewRequest("POST", e.URL+"/apps/big/upload", io.LimitReader(zeros{}, size))
	req.Header.Set("Authorization", w.adminA[1])
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != fmt.Sprintf("%d <nil>", size) {
		t.Errorf("upload: %d %s", res.StatusCode, b)
	}
	req, _ = http.NewRequest("GET", e.URL+"/apps/big/download", nil)
	req.Header.Set("Authorization", w.adminA[1])
	res, err = e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if n != size || err != nil {
		t.Errorf("download: %d bytes, %v", n, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A caching route keeps what Cache-Control allows a shared cache to keep,
// and nothing else.
func TestProxyCache(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch r.URL.Path {
		case "/cached":
			rw.Header().Set("Cache-Control", "public, max-age=60")
		case "/private":
			rw.Header().Set("Cache-Control", "private, max-age=60")
		case "/nostore":
			rw.Header().Set("Cache-Control", "no-store")
		}
		fmt.Fprintf(rw, "answer %d", n)
	}))
	t.Cleanup(up.Close)
	route(t, e, w.adminA, "c", up.URL, map[string]any{"cache": true})
	route(t, e, w.adminA, "nc", up.URL, nil)
	for _, c := range []struct {
		path       string
		sameSecond bool // the second answer is the first one
	}{
		{"/apps/c/cached", true},
		{"/apps/c/private", false},
		{"/apps/c/nostore", false},
		{"/apps/nc/cached", false},
	} {
		first := e.Do(t, "GET", c.path, nil, w.adminA...)
		second := e.Do(t, "GET", c.path, nil, w.adminA...)
		if same := string(first.Raw) == string(second.Raw); same != c.sameSecond {
			t.Errorf("%s: %q then %q (X-Cache %q)", c.path, first.Raw, second.Raw, second.Header.Get("X-Cache"))
		}
		if c.sameSecond && second.Header.Get("X-Cache") != "HIT" {
			t.Errorf("%s: X-Cache %q", c.path, second.Header.Get("X-Cache"))
		}
	}
	// A client asking for a fresh answer gets one.
	r := e.Do(t, "GET", "/apps/c/cached", nil, append(append([]string{}, w.adminA...), "Cache-Control", "no-cache")...)
	if r.Header.Get("X-Cache") == "HIT" {
		t.Errorf("no-cache request served from the cache")
	}
}

// The proxy answers over HTTP/2 when the client speaks it (TLS, ALPN).
func TestProxyHTTP2(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	w := newAppsWorld(t, e)
	up := echoUpstream(t)
	route(t, e, w.adminA, "h2", up.URL, nil)
	s := httptest.NewUnstartedServer(e.Server.Handler())
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	client := s.Client()
	client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, NextProtos: []string{"h2"}}
	client.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	req, _ := http.NewRequest("GET", s.URL+"/apps/h2/x", nil)
	req.Header.Set("Authorization", w.adminA[1])
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.ProtoMajor != 2 || res.StatusCode != 200 || !strings.Contains(string(b), `"Path":"/x"`) ||
		!strings.Contains(string(b), `"X-Forwarded-Proto":["https"]`) {
		t.Errorf("HTTP/2: %s %d %s", res.Proto, res.StatusCode, b)
	}
}
