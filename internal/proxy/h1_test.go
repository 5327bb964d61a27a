package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/catalog"
)

// Plain requests to an http:// upstream share one keep-alive connection,
// whatever the answer's framing (sized, chunked, bodiless, HEAD).
func TestUpstreamKeepAlive(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			_, _ = io.WriteString(w, "part one ")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "part two")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/not-modified":
			w.WriteHeader(http.StatusNotModified)
		default:
			_, _ = io.WriteString(w, "sized "+r.URL.Path)
		}
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	base := "http://" + serveApp(t, up.URL, nil) + "/apps/app"
	client := &http.Client{}
	for i := range 5 {
		for path, want := range map[string]string{"/a": "sized /a", "/chunked": "part one part two", "/empty": "", "/not-modified": ""} {
			code, body := get(t, client, base+path)
			if body != want || code >= 400 {
				t.Fatalf("round %d %s: %d %q, want %q", i, path, code, body, want)
			}
		}
		res, err := client.Head(base + "/a")
		if err != nil || res.StatusCode != 200 || res.ContentLength != int64(len("sized /a")) {
			t.Fatalf("HEAD: %v %v", res, err)
		}
		res.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the upstream saw %d connections, want 1", n)
	}
}

// An upstream that closes an idle keep-alive connection without saying so
// costs the client nothing: the replayable request goes again on a new
// connection.
func TestUpstreamClosedIdleConnection(t *testing.T) {
	t.Parallel()
	var served atomic.Int32
	to, conns := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		body := fmt.Sprintf("answer %d", served.Add(1))
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		// and closes, although the answer promised keep-alive
	})
	base := "http://" + serveApp(t, to, nil) + "/apps/app"
	client := &http.Client{}
	for i := 1; i <= 3; i++ {
		if code, body := get(t, client, base+"/"); code != 200 || body != fmt.Sprintf("answer %d", i) {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	if n := conns(); n != 3 {
		t.Errorf("%d upstream connections, want 3 (one per request)", n)
	}
}

// An answer that leaves bytes behind (the upstream sent more than it
// framed), or that the client stops reading early, never leaves its
// connection in the pool: the next request gets its own answer.
func TestUpstreamConnectionNotReusedDirty(t *testing.T) {
	t.Parallel()
	late, lateSent := make(chan struct{}), make(chan struct{})
	to, conns := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			switch req.URL.Path {
			case "/late": // extra bytes once the answer was taken
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				<-late
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
				close(lateSent)
			case "/extra":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"+
					"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
			case "/large":
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n")
				_, _ = io.CopyN(c, strings.NewReader(strings.Repeat("x", 4<<20)), 4<<20)
			default:
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmine")
			}
		}
	})
	addr := serveApp(t, to, nil)
	client := &http.Client{}
	if code, body := get(t, client, "http://"+addr+"/apps/app/extra"); code != 200 || body != "ok" {
		t.Fatalf("extra: %d %q", code, body)
	}
	if code, body := get(t, client, "http://"+addr+"/apps/app/next"); body != "mine" {
		t.Fatalf("after an answer with extra bytes: %d %q", code, body)
	}
	if code, body := get(t, client, "http://"+addr+"/apps/app/late"); code != 200 || body != "ok" {
		t.Fatalf("late: %d %q", code, body)
	}
	close(late)
	<-lateSent
	if code, body := get(t, client, "http://"+addr+"/apps/app/next"); body != "mine" {
		t.Fatalf("after extra bytes sent once the answer was taken: %d %q", code, body)
	}
	// A client that reads a little of a large answer and goes away.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /apps/app/large HTTP/1.1\r\nHost: x\r\n\r\n")
	_, _ = c.Read(make([]byte, 1024))
	c.Close()
	before := conns()
	for range 3 {
		if code, body := get(t, client, "http://"+addr+"/apps/app/next"); code != 200 || body != "mine" {
			t.Fatalf("after an abandoned answer: %d %q", code, body)
		}
	}
	if conns() < 2 || conns() > before+1 {
		t.Errorf("%d upstream connections (%d before the last requests)", conns(), before)
	}
}

// A client that goes away while the upstream is still thinking closes the
// upstream connection: the upstream sees its request cancelled.
func TestUpstreamCancelledWithClient(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(gone)
	}))
	defer up.Close()
	addr := serveApp(t, up.URL, func(r *catalog.Route) { r.Timeout = time.Minute })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "GET /apps/app/wait HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // let the request reach the upstream
	c.Close()
	select {
	case <-gone:
	case <-time.After(20 * time.Second): // well under the route's timeout
		t.Fatal("the upstream request outlived its client")
	}
}

// Interim answers (103 Early Hints) reach the client before the final one.
func TestUpstreamInterimAnswers(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "final")
	}))
	defer up.Close()
	base := "http://" + serveApp(t, up.URL, nil) + "/apps/app"
	var hints []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if h.Get("Link") != "" {
			hints = append(hints, code)
		}
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+"/", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "final" || len(hints) != 1 || hints[0] != 103 {
		t.Errorf("got %d %q, hints %v", res.StatusCode, body, hints)
	}
}

// The upstream's first bytes after switching protocols may arrive with
// its 101: they reach the client, and the relay carries both ways after.
func TestUpstreamSwitchWithBufferedBytes(t *testing.T) {
	t.Parallel()
	to, _ := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello\n")
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		_, _ = io.WriteString(c, "echo "+line)
	})
	addr := serveApp(t, to, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /apps/app/socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("switch: %v %v", res, err)
	}
	if line, err := br.ReadString('\n'); line != "hello\n" {
		t.Fatalf("first bytes: %q %v", line, err)
	}
	_, _ = io.WriteString(c, "ping\n")
	if line, err := br.ReadString('\n'); line != "echo ping\n" {
		t.Fatalf("relay: %q %v", line, err)
	}
	// A switch the client did not ask for is the upstream's error.
	if code, body := get(t, http.DefaultClient, "http://"+addr+"/apps/app/plain"); code != http.StatusBadGateway || !strings.Contains(body, "BAD_GATEWAY") {
		t.Errorf("unasked switch: %d %s", code, body)
	}
}

// A route's timeout bounds the wait for the answer's header (504), not a
// body that streams for longer.
func TestUpstreamTimeoutIsTheHeaders(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		for i := range 4 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond)
		}
	}))
	defer up.Close()
	base := "http://" + serveApp(t, up.URL, func(r *catalog.Route) { r.Timeout = 300 * time.Millisecond }) + "/apps/app"
	code, body := get(t, http.DefaultClient, base+"/slow")
	if code != http.StatusGatewayTimeout || !strings.Contains(body, "GATEWAY_TIMEOUT") {
		t.Errorf("slow header: %d %s", code, body)
	}
	if code, body := get(t, http.DefaultClient, base+"/stream"); code != 200 || body != "part 0;part 1;part 2;part 3;" {
		t.Errorf("long body: %d %q", code, body)
	}
}
