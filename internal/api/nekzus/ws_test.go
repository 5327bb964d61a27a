package nekzus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// wsWait bounds the waits of the stream tests.
const wsWait = 10 * time.Second

// sourceIPs hands every test socket its own loopback source address, so the
// per-address connection limit (3 per 30 s) counts each test's own sockets.
var sourceIPs atomic.Uint32

func nextSource() net.IP {
	n := sourceIPs.Add(1)
	return net.IPv4(127, 1, byte(n>>8), byte(n))
}

// dialFrom opens GET /api/v1/ws of e from source address from.
func dialFrom(tb testing.TB, e *servertest.Env, from net.IP) (*websocket.Conn, *http.Response, error) {
	tb.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws", &websocket.DialOptions{HTTPClient: hc})
	if err == nil {
		ws.SetReadLimit(1 << 20)
		tb.Cleanup(func() { ws.CloseNow() })
	}
	return ws, res, err
}

// stream is a test client of the event stream.
type stream struct {
	ws   *websocket.Conn
	msgs chan wsFrame
	end  chan error
}

type wsFrame struct {
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp time.Time       `json:"timestamp"`
}

// openStream connects from a fresh address and sends the auth message.
func openStream(tb testing.TB, e *servertest.Env, token string) *stream {
	tb.Helper()
	ws, _, err := dialFrom(tb, e, nextSource())
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	s := &stream{ws: ws, msgs: make(chan wsFrame, 256), end: make(chan error, 1)}
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				s.end <- err
				return
			}
			var f wsFrame
			if err := json.Unmarshal(b, &f); err != nil {
				s.end <- err
				return
			}
			s.msgs <- f
		}
	}()
	s.send(tb, map[string]any{"type": "auth", "data": map[string]string{"token": token}})
	return s
}

// listen opens a stream and waits for auth_success and hello.
func listen(tb testing.TB, e *servertest.Env, token string) *stream {
	tb.Helper()
	s := openStream(tb, e, token)
	s.expect(tb, "auth_success")
	s.expect(tb, "hello")
	return s
}

func (s *stream) send(tb testing.TB, v any) {
	tb.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), wsWait)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageText, b); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

func (s *stream) expect(tb testing.TB, typ string) wsFrame {
	tb.Helper()
	select {
	case f := <-s.msgs:
		if f.Type != typ {
			tb.Fatalf("got %s %s, want %s", f.Type, f.Data, typ)
		}
		return f
	case err := <-s.end:
		tb.Fatalf("stream ended waiting for %s: %v", typ, err)
	case <-time.After(wsWait):
		tb.Fatalf("no %s within %v", typ, wsWait)
	}
	return wsFrame{}
}

// closed waits for the server to close the stream and returns the code.
func (s *stream) closed(tb testing.TB) websocket.StatusCode {
	tb.Helper()
	for {
		select {
		case <-s.msgs:
		case err := <-s.end:
			return websocket.CloseStatus(err)
		case <-time.After(wsWait):
			tb.Fatal("stream not closed")
		}
	}
}

// newKeyOf creates a Nekzus API key with scopes as token's user.
func newKeyOf(tb testing.TB, e *servertest.Env, token string, scopes ...string) string {
	tb.Helper()
	r := e.Do(tb, "POST", "/api/v1/apikeys", map[string]any{"name": "stream", "scopes": scopes}, servertest.Bearer(token)...)
	if r.Status != 201 {
		tb.Fatalf("creating key: %d %s", r.Status, r.Raw)
	}
	return r.JSON["key"].(string)
}

func TestStreamHandshake(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		alice, _ := e.Login(t, "alice", "password1")
		catalog := newKeyOf(t, e, alice, "read:catalog")
		tests := []struct {
			name     string
			token    string
			wantCode string // "" for success
		}{
			{"user access token", alice, ""},
			{"read:events key", newKeyOf(t, e, alice, "read:events"), ""},
			{"master key", servertest.MasterKey, ""},
			{"read:catalog key lacks read:events", catalog, "FORBIDDEN"},
			{"unknown key", "nekzus_" + strings.Repeat("0", 64), "UNAUTHORIZED"},
			{"garbage token", "not-a-token", "UNAUTHORIZED"},
			{"empty token", "", "UNAUTHORIZED"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := openStream(t, e, tt.token)
				if tt.wantCode == "" {
					s.expect(t, "auth_success")
					var hello struct {
						NexusID string `json:"nexusId"`
						Version string `json:"version"`
					}
					_ = json.Unmarshal(s.expect(t, "hello").Data, &hello)
					info := e.Do(t, "GET", "/api/v1/admin/info", nil, servertest.Bearer(alice)...)
					if hello.NexusID == "" || hello.NexusID != info.JSON["nexusId"] || hello.Version != info.JSON["version"] {
						t.Errorf("hello %+v, admin/info %s", hello, info.Raw)
					}
					s.send(t, map[string]any{"type": "ping"})
					s.expect(t, "pong")
					return
				}
				var failed struct {
					Code  string `json:"code"`
					Error string `json:"error"`
				}
				_ = json.Unmarshal(s.expect(t, "auth_failed").Data, &failed)
				if failed.Code != tt.wantCode || failed.Error == "" {
					t.Errorf("auth_failed %+v, want %s", failed, tt.wantCode)
				}
				if code := s.closed(t); code != websocket.StatusPolicyViolation {
					t.Errorf("closed with %d", code)
				}
			})
		}
		t.Run("400/not a WebSocket", func(t *testing.T) {
			r := e.Do(t, "GET", "/api/v1/ws", nil)
			if r.Status != 400 || r.ErrorCode() != "BAD_REQUEST" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			apitest.AssertShape(t, r.Raw, "testdata/seed/error.json")
		})
		t.Run("429/fourth connection from one address in 30s", func(t *testing.T) {
			from := nextSource()
			for i := range 3 {
				if _, _, err := dialFrom(t, e, from); err != nil {
					t.Fatalf("connection %d: %v", i+1, err)
				}
			}
			_, res, err := dialFrom(t, e, from)
			if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
				t.Fatalf("fourth connection: %v %+v", err, res)
			}
			if _, _, err := dialFrom(t, e, nextSource()); err != nil {
				t.Fatalf("another address is limited too: %v", err)
			}
		})
	})
}

// Changes made through the API reach the sockets that may read them, and
// only those: by scope, by role, by group.
func TestStreamDeliversChanges(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		e.CreateUser(t, "bob", "password1", identity.GroupAdmin, "other")
		alice, _ := e.Login(t, "alice", "password1")
		bob, _ := e.Login(t, "bob", "password1")
		eventsKey, readsKey := newKeyOf(t, e, alice, "read:events"), newKeyOf(t, e, alice, "read:*")
		admin, events, reads, other := listen(t, e, alice), listen(t, e, eventsKey), listen(t, e, readsKey), listen(t, e, bob)

		r := e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "guest"}, servertest.Bearer(alice)...)
		if r.Status != 201 {
			t.Fatalf("create PSK: %d %s", r.Status, r.Raw)
		}
		pskID := fmt.Sprint(r.JSON["id"])
		for name, s := range map[string]*stream{"admin": admin, "read:*": reads} {
			var d struct {
				ID     string `json:"id"`
				Action string `json:"action"`
			}
			_ = json.Unmarshal(s.expect(t, "psk.created").Data, &d)
			if d.ID != pskID || d.Action != "created" {
				t.Errorf("%s: psk.created %+v, want id %s", name, d, pskID)
			}
		}
		// A notification every socket of acme may read marks the end: the
		// read:events key gets it first, so the PSK never reached it, and
		// bob, of another group, gets only his own group's.
		if r := e.Do(t, "POST", "/api/v1/webhooks/notify", map[string]any{"type": "custom_event", "data": map[string]any{"n": 1}},
			servertest.Bearer(bob)...); r.Status != 200 {
			t.Fatalf("notify as bob: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/v1/webhooks/notify", map[string]any{"type": "custom_event", "data": map[string]any{"title": "Build Complete"}},
			servertest.Bearer(alice)...)
		if r.Status != 200 {
			t.Fatalf("notify: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/webhooks_notify.json")
		for name, s := range map[string]*stream{"admin": admin, "read:events": events, "read:*": reads} {
			var d struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			_ = json.Unmarshal(s.expect(t, "webhook").Data, &d)
			if d.Type != "custom_event" || d.Data["title"] != "Build Complete" {
				t.Errorf("%s: webhook %+v", name, d)
			}
		}
		var d struct {
			Data map[string]any `json:"data"`
		}
		if _ = json.Unmarshal(other.expect(t, "webhook").Data, &d); d.Data["n"] != float64(1) {
			t.Errorf("bob got another group's notification first: %+v", d)
		}

		// A webhook activity is pushed, then listed in the feed.
		r = e.Do(t, "POST", "/api/v1/webhooks/activity", map[string]any{"message": "Deployment completed", "icon": "CheckCircle",
			"iconClass": "success", "details": "Version 2.0.0 deployed successfully"}, servertest.Bearer(alice)...)
		if r.Status != 200 {
			t.Fatalf("activity webhook: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/webhooks_activity.json")
		var item struct {
			ID, Message, Icon string
		}
		_ = json.Unmarshal(admin.expect(t, "webhook").Data, &item)
		if item.ID != r.JSON["eventId"] || item.Message != "Deployment completed" || item.Icon != "CheckCircle" {
			t.Errorf("pushed activity %+v, answer %s", item, r.Raw)
		}
	})
}

// An event published on one replica reaches a socket of another: the bus
// crosses replicas through PostgreSQL.
func TestStreamAcrossReplicas(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, a *servertest.Env) {
		if a.Kind != config.Postgres {
			t.Skip("replicas share a PostgreSQL database")
		}
		b := servertest.Replica(t, a)
		a.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		alice, _ := a.Login(t, "alice", "password1")
		onB := listen(t, b, alice)
		if r := a.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "replicated"}, servertest.Bearer(alice)...); r.Status != 201 {
			t.Fatalf("create PSK on A: %d %s", r.Status, r.Raw)
		}
		onB.expect(t, "psk.created")
		if r := a.Do(t, "POST", "/api/v1/webhooks/notify", map[string]any{"data": map[string]any{"from": "A"}}, servertest.Bearer(alice)...); r.Status != 200 {
			t.Fatalf("notify on A: %d %s", r.Status, r.Raw)
		}
		onB.expect(t, "webhook")
		// Logging out on A ends the session's socket on B.
		if r := a.Do(t, "POST", "/api/v1/auth/logout", nil, servertest.Bearer(alice)...); r.Status != 200 {
			t.Fatalf("logout: %d", r.Status)
		}
		if code := onB.closed(t); code != websocket.StatusPolicyViolation {
			t.Errorf("socket of the ended session closed with %d", code)
		}
	})
}
