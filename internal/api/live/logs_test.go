package live

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/authz"
	"netkeep/internal/container"
	"netkeep/internal/fault"
)

// logSource is a container log kept in memory (the real one is the
// Docker runtime, tested end to end in internal/server): "finite" has
// three lines and ends, "endless*" writes until stopped, anything else
// does not exist.
func logSource(returned chan<- time.Time) LogSource {
	return func(ctx context.Context, p *authz.Principal, id string, o container.LogOptions, emit func(container.LogLine) bool) error {
		if err := authz.AllowServer(p, container.ActRead); err != nil {
			return err
		}
		defer func() {
			if returned != nil {
				returned <- time.Now()
			}
		}()
		switch id {
		case "finite":
			for _, l := range []container.LogLine{{Stream: container.Stdout, Line: "one"}, {Stream: container.Stderr, Line: "two"}, {Stream: container.Stdout, Line: "three"}} {
				if !emit(l) {
					return nil
				}
			}
			return nil
		}
		if strings.HasPrefix(id, "endless") {
			line := strings.Repeat("x", 4096)
			for ctx.Err() == nil {
				if !emit(container.LogLine{Stream: container.Stdout, Line: line}) {
					return nil
				}
			}
			return nil
		}
		return fault.New(fault.NotFound, "container not found")
	}
}

// Not parallel: its endless logs keep a core busy, which would starve
// the timing of the other tests' sockets.
func TestLogSubscriptions(t *testing.T) {
	principals := map[string]*authz.Principal{
		"super": {Kind: authz.KindUser, Role: authz.SuperAdmin, GroupID: 1, UserID: 1, SessionID: "s1"},
		"admin": {Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: 1, UserID: 2, SessionID: "s2"},
	}
	th := startHub(t, Config{Logs: logSource(nil), LogStreams: 2}, principals)
	c := th.connect(t, "super")
	sub := func(id string) {
		writeJSON(t, c.ws, map[string]any{"type": TypeLogsSubscribe, "data": map[string]any{"containerId": id, "follow": false}})
	}
	sub("finite")
	for _, want := range []string{`"stream":"stdout","line":"one"`, `"stream":"stderr","line":"two"`, `"stream":"stdout","line":"three"`} {
		if f := c.expect(t, TypeLogsData); !strings.Contains(string(f.Data), want) || !strings.Contains(string(f.Data), `"containerId":"finite"`) {
			t.Errorf("data %s, want %s", f.Data, want)
		}
	}
	c.expect(t, TypeLogsEnd)

	errorsOf := []struct {
		name string
		data any
		code string
	}{
		{"unknown container", map[string]any{"containerId": "missing"}, "NOT_FOUND"},
		{"no container id", map[string]any{"tail": 5}, "BAD_REQUEST"},
		{"not an object", "x", "BAD_REQUEST"},
	}
	for _, tt := range errorsOf {
		writeJSON(t, c.ws, map[string]any{"type": TypeLogsSubscribe, "data": tt.data})
		if f := c.expect(t, TypeLogsError); !strings.Contains(string(f.Data), `"code":"`+tt.code+`"`) {
			t.Errorf("%s: %s", tt.name, f.Data)
		}
	}

	// Subscriptions per socket are bounded (two here); each streams until
	// unsubscribed.
	for _, id := range []string{"endless-1", "endless-2", "endless-3"} {
		writeJSON(t, c.ws, map[string]any{"type": TypeLogsSubscribe, "data": map[string]any{"containerId": id}})
	}
	for f := c.next(t); f.Type != TypeLogsError; f = c.next(t) {
		if f.Type != TypeLogsData {
			t.Fatalf("unexpected %s %s", f.Type, f.Data)
		}
	} // the third: RATE_LIMIT_EXCEEDED, checked by type (data frames may come first)
	for _, id := range []string{"endless-1", "endless-2"} {
		writeJSON(t, c.ws, map[string]any{"type": TypeLogsUnsubscribe, "data": map[string]any{"containerId": id}})
		for f := c.next(t); f.Type != TypeLogsUnsubscribed; f = c.next(t) {
			if f.Type != TypeLogsData {
				t.Fatalf("unexpected %s %s", f.Type, f.Data)
			}
		}
	}
	writeJSON(t, c.ws, map[string]any{"type": TypePing})
	for f := c.next(t); f.Type != TypePong; f = c.next(t) {
		if f.Type == TypeLogsData {
			t.Fatalf("log data after unsubscribed: %s", f.Data)
		}
	}

	// A principal who may not read containers is told so.
	a := th.connect(t, "admin")
	writeJSON(t, a.ws, map[string]any{"type": TypeLogsSubscribe, "data": map[string]any{"containerId": "finite"}})
	if f := a.expect(t, TypeLogsError); !strings.Contains(string(f.Data), `"code":"FORBIDDEN"`) {
		t.Errorf("admin: %s", f.Data)
	}
}

// Without a log source, subscriptions are refused, and the stream goes on.
func TestLogsNotOffered(t *testing.T) {
	t.Parallel()
	th := startHub(t, Config{}, map[string]*authz.Principal{"super": {Kind: authz.KindMaster, Role: authz.SuperAdmin}})
	c := th.as(t, "super")
	writeJSON(t, c.ws, map[string]any{"type": TypeLogsSubscribe, "data": map[string]any{"containerId": "x"}})
	if f := c.expect(t, TypeLogsError); !strings.Contains(string(f.Data), "CONTAINER_RUNTIME_UNAVAILABLE") {
		t.Errorf("%s", f.Data)
	}
}

// A client that does not read its socket is cut off, and the log's
// reader is let go within the write timeout: the engine's stream is not
// held by a slow client.
func TestLogsSlowClientCutOff(t *testing.T) {
	returned := make(chan time.Time, 1)
	principals := map[string]*authz.Principal{"super": {Kind: authz.KindMaster, Role: authz.SuperAdmin}}
	th := startHub(t, Config{Logs: logSource(returned), Queue: 8, WriteWithin: 200 * time.Millisecond}, principals)
	ws := dial(t, th.url+"/as/super", nil) // never read
	b, _ := json.Marshal(map[string]any{"type": TypeLogsSubscribe, "data": map[string]any{"containerId": "endless"}})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	case <-time.After(wait):
		t.Fatal("the log reader was held by a client that does not read")
	}
	var slow atomic.Bool
	eventually(t, "the slow client is counted", func() bool {
		slow.Store(th.hub.SlowConsumers() > 0)
		return slow.Load()
	})
	eventually(t, "the slow client is let go", func() bool { return th.hub.Connections() == 0 })
}

// wireError tells the stream Nekzus's codes, the container routes' code for
// an engine that is not there, and never an unknown error's cause.
func TestLogsWireError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err        error
		code, text string
	}{
		{fault.New(fault.NotFound, "no such container"), "NOT_FOUND", "no such container"},
		{fault.New(fault.Forbidden, "not yours"), "FORBIDDEN", "not yours"},
		{fault.New(fault.Invalid, "bad tail"), "BAD_REQUEST", "bad tail"},
		{fault.New(fault.Unavailable, "the container engine does not answer"), "CONTAINER_RUNTIME_UNAVAILABLE", "the container engine does not answer"},
		{fault.New(fault.Conflict, "busy"), "CONFLICT", "busy"},
		{context.DeadlineExceeded, "INTERNAL_ERROR", "the log could not be read"},
	} {
		if code, text := wireError(c.err); code != c.code || text != c.text {
			t.Errorf("%v: %s %q, want %s %q", c.err, code, text, c.code, c.text)
		}
	}
}
