package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/docker/dockertest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// containerWait bounds every wait of these tests.
const containerWait = 60 * time.Second

// liveClient is a client of GET /api/v1/ws.
type liveClient struct {
	ws   *websocket.Conn
	msgs chan liveFrame
	end  chan error
}

type liveFrame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

var liveSources atomic.Uint32

// openLive connects from a fresh loopback address (the stream is rate
// limited per address), authenticates with token and waits for hello.
func openLive(tb testing.TB, e *servertest.Env, token string) *liveClient {
	tb.Helper()
	n := liveSources.Add(1)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 2, byte(n>>8), byte(n))}}
	ctx, cancel := context.WithTimeout(context.Background(), containerWait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/api/v1/ws",
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	tb.Cleanup(func() { ws.CloseNow() })
	c := &liveClient{ws: ws, msgs: make(chan liveFrame, 4096), end: make(chan error, 1)}
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				c.end <- err
				return
			}
			var f liveFrame
			if err := json.Unmarshal(b, &f); err != nil {
				c.end <- err
				return
			}
			c.msgs <- f
		}
	}()
	c.send(tb, "auth", map[string]string{"token": token})
	c.next(tb, "auth_success", nil)
	c.next(tb, "hello", nil)
	return c
}

func (c *liveClient) send(tb testing.TB, typ string, data any) {
	tb.Helper()
	b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	ctx, cancel := context.WithTimeout(context.Background(), containerWait)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// next waits for the next message of type typ, skipping the others (the
// master key sees every change of the server: discovery, users, ...);
// a message for which unwanted returns true fails the test.
func (c *liveClient) next(tb testing.TB, typ string, unwanted func(liveFrame) bool) liveFrame {
	tb.Helper()
	deadline := time.After(containerWait)
	for {
		select {
		case f := <-c.msgs:
			if f.Type == typ {
				return f
			}
			if unwanted != nil && unwanted(f) {
				tb.Fatalf("got %s %s, want %s", f.Type, f.Data, typ)
			}
		case err := <-c.end:
			tb.Fatalf("stream ended waiting for %s: %v", typ, err)
		case <-deadline:
			tb.Fatalf("no %s within %v", typ, containerWait)
		}
	}
}

// completion waits for the completion of op on container id.
func (c *liveClient) completion(tb testing.TB, op, id string) map[string]any {
	tb.Helper()
	typ := "container." + op + ".completed"
	for {
		f := c.next(tb, typ, nil)
		var d map[string]any
		if err := json.Unmarshal(f.Data, &d); err != nil {
			tb.Fatal(err)
		}
		if d["containerId"] == id {
			return d
		}
	}
}

func engineState(tb testing.TB, id string) string {
	tb.Helper()
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Status}}", id).CombinedOutput()
	if err != nil {
		tb.Fatalf("docker inspect: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func startWithEngine(tb testing.TB, host string) *servertest.Env {
	tb.Helper()
	return servertest.StartWith(tb, config.SQLite, func(c *config.Config) { c.DockerHost = host })
}

// The container endpoints on a real engine: listing and detail as
// documented, start/stop/restart answered 202 at once and completed on
// the stream (and seen by the engine), each audited; bad input refused in
// the Nekzus envelope with nothing done.
func TestContainerOperations(t *testing.T) {
	host := dockertest.Engine(t)
	e := startWithEngine(t, host)
	c := dockertest.Run(t, "containers-api", dockertest.RunOptions{Labels: map[string]string{"nekzus.app.id": "api"}})
	live := openLive(t, e, servertest.MasterKey)
	master := servertest.Master()

	r := e.Do(t, "GET", "/api/v1/containers", nil, master...)
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	var listed map[string]any
	for _, it := range r.Array {
		if m := it.(map[string]any); m["id"] == c.ID {
			listed = m
		}
	}
	if listed == nil || listed["name"] != c.Name || listed["state"] != "running" || listed["runtime"] != "docker" ||
		listed["namespace"] != "" || listed["image"] != dockertest.Image || listed["created"].(float64) == 0 {
		t.Fatalf("listed: %v", listed)
	}
	for _, k := range []string{"id", "name", "image", "state", "status", "created", "ports", "labels", "runtime", "namespace"} {
		if _, ok := listed[k]; !ok {
			t.Errorf("listing lacks %s", k)
		}
	}
	if r := e.Do(t, "GET", "/api/v1/containers?runtime=docker", nil, master...); r.Status != 200 || len(r.Array) == 0 {
		t.Errorf("runtime=docker: %d %s", r.Status, r.Raw)
	}
	if r := e.Do(t, "GET", "/api/v1/containers/"+c.Name, nil, master...); r.Status != 200 || r.JSON["id"] != c.ID ||
		r.JSON["networkMode"] != "host" || r.JSON["startedAt"] == nil {
		t.Errorf("detail: %d %s", r.Status, r.Raw)
	}

	steps := []struct {
		op, query, status, engine string
		timeout                   float64 // shown in the 202 (stop only)
	}{
		{"stop", "?timeout=1", "stopped", "exited", 1},
		{"start", "", "started", "running", 0},
		{"restart", "?timeout=2", "restarted", "running", 0},
	}
	for _, s := range steps {
		r := e.Do(t, "POST", "/api/v1/containers/"+c.ID+"/"+s.op+s.query, nil, master...)
		if r.Status != 202 || r.JSON["status"] != "accepted" || r.JSON["containerId"] != c.ID ||
			r.JSON["message"] != "Container "+s.op+" initiated" || r.JSON["timestamp"] == nil {
			t.Fatalf("%s: %d %s", s.op, r.Status, r.Raw)
		}
		if got, _ := r.JSON["timeout"].(float64); got != s.timeout {
			t.Errorf("%s: timeout %v, want %v", s.op, r.JSON["timeout"], s.timeout)
		}
		d := live.completion(t, s.op, c.ID)
		if d["status"] != s.status || d["message"] == "" || d["timestamp"] == nil {
			t.Errorf("%s completion: %v", s.op, d)
		}
		if got := engineState(t, c.ID); got != s.engine {
			t.Errorf("after %s the engine says %s", s.op, got)
		}
	}
	entries, err := e.DB.Read().ListAudit(context.Background(), audit.Query{Action: "container.stop", Limit: 100})
	if err != nil || len(entries) != 1 || entries[0].Target != "container:"+c.ID || entries[0].Actor != "master" {
		t.Errorf("audit of the stop: %+v %v", entries, err)
	}

	refusals := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"400/timeout 0", "POST", "/api/v1/containers/" + c.ID + "/stop?timeout=0", nil, 400, "BAD_REQUEST"},
		{"400/timeout 301", "POST", "/api/v1/containers/" + c.ID + "/restart?timeout=301", nil, 400, "BAD_REQUEST"},
		{"400/timeout not a number", "POST", "/api/v1/containers/" + c.ID + "/stop?timeout=soon", nil, 400, "BAD_REQUEST"},
		{"404/unknown container", "POST", "/api/v1/containers/containers-nonexistent/start", nil, 404, "CONTAINER_NOT_FOUND"},
		{"404/unknown detail", "GET", "/api/v1/containers/containers-nonexistent", nil, 404, "CONTAINER_NOT_FOUND"},
		{"400/unknown runtime", "GET", "/api/v1/containers?runtime=lxc", nil, 400, "BAD_REQUEST"},
		{"503/kubernetes not configured", "GET", "/api/v1/containers?runtime=kubernetes", nil, 503, "CONTAINER_RUNTIME_UNAVAILABLE"},
		{"400/batch unknown operation", "POST", "/api/v1/containers/batch", map[string]any{"operation": "pause", "containerIds": []string{c.ID}}, 400, "BAD_REQUEST"},
		{"400/batch without containers", "POST", "/api/v1/containers/batch", map[string]any{"operation": "stop", "containerIds": []string{}}, 400, "BAD_REQUEST"},
		{"400/batch bad timeout", "POST", "/api/v1/containers/batch", map[string]any{"operation": "stop", "containerIds": []string{c.ID}, "timeout": 0}, 400, "BAD_REQUEST"},
		{"400/batch not JSON", "POST", "/api/v1/containers/batch", "{", 400, "BAD_REQUEST"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Do(t, tt.method, tt.path, tt.body, master...)
			if r.Status != tt.status || r.ErrorCode() != tt.code {
				t.Errorf("%d %s, want %d %s", r.Status, r.Raw, tt.status, tt.code)
			}
		})
	}
	if got := engineState(t, c.ID); got != "running" {
		t.Errorf("a refused request changed the container: %s", got)
	}
	if entries, _ := e.DB.Read().ListAudit(context.Background(), audit.Query{Action: "container.stop", Limit: 100}); len(entries) != 1 {
		t.Errorf("refused requests were audited: %d stop entries", len(entries))
	}

	// Someone who is not a super principal may not see or touch containers.
	e.CreateUser(t, "containers-admin", "password1", identity.GroupAdmin, "default")
	admin, _ := e.Login(t, "containers-admin", "password1")
	if r := e.Do(t, "POST", "/api/v1/containers/"+c.ID+"/stop", nil, servertest.Bearer(admin)...); r.Status != 403 || r.ErrorCode() != "FORBIDDEN" {
		t.Errorf("group admin stopping: %d %s", r.Status, r.Raw)
	}
	if got := engineState(t, c.ID); got != "running" {
		t.Errorf("a forbidden stop changed the container: %s", got)
	}
}

// A batch reports one result per container: a container that does not
// exist fails alone, the others are done.
func TestContainerBatchPartialFailure(t *testing.T) {
	e := startWithEngine(t, dockertest.Engine(t))
	a := dockertest.Run(t, "containers-batch", dockertest.RunOptions{})
	b := dockertest.Run(t, "containers-batch", dockertest.RunOptions{})
	live := openLive(t, e, servertest.MasterKey)
	r := e.Do(t, "POST", "/api/v1/containers/batch", map[string]any{"operation": "stop", "timeout": 1,
		"containerIds": []string{a.ID, "containers-nonexistent", b.Name}}, servertest.Master()...)
	if r.Status != 200 || r.JSON["operation"] != "stop" || r.JSON["total"] != 3.0 || r.JSON["succeeded"] != 2.0 || r.JSON["failed"] != 1.0 {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	results := r.JSON["results"].([]any)
	want := []struct {
		id      string
		success bool
		status  string
	}{{a.ID, true, "stopped"}, {"containers-nonexistent", false, "not_found"}, {b.Name, true, "stopped"}}
	for i, w := range want {
		got := results[i].(map[string]any)
		if got["containerId"] != w.id || got["success"] != w.success || got["status"] != w.status {
			t.Errorf("result %d: %v, want %+v", i, got, w)
		}
	}
	if results[1].(map[string]any)["error"] == "" {
		t.Errorf("the failure says no reason: %v", results[1])
	}
	for _, c := range []*dockertest.Container{a, b} {
		if got := engineState(t, c.ID); got != "exited" {
			t.Errorf("%s: the engine says %s", c.Name, got)
		}
	}
	// Each container done has its completion, in whatever order.
	pending := map[string]bool{a.ID: true, b.ID: true}
	for len(pending) > 0 {
		var d map[string]any
		if err := json.Unmarshal(live.next(t, "container.stop.completed", nil).Data, &d); err != nil {
			t.Fatal(err)
		}
		if d["status"] != "stopped" {
			t.Errorf("completion: %v", d)
		}
		delete(pending, d["containerId"].(string))
	}
}

// Stats of one container and of every running one, in the documented
// shape.
func TestContainerStatsEndpoints(t *testing.T) {
	e := startWithEngine(t, dockertest.Engine(t))
	c := dockertest.Run(t, "containers-stats", dockertest.RunOptions{})
	r := e.Do(t, "GET", "/api/v1/containers/"+c.ID+"/stats", nil, servertest.Master()...)
	if r.Status != 200 || r.JSON["containerId"] != c.ID || r.JSON["timestamp"] == nil {
		t.Fatalf("stats: %d %s", r.Status, r.Raw)
	}
	cpu, mem, netio := r.JSON["cpu"].(map[string]any), r.JSON["memory"].(map[string]any), r.JSON["network"].(map[string]any)
	if cpu["totalCores"].(float64) < 1 || mem["limit"].(float64) <= 0 || mem["used"].(float64) <= 0 ||
		mem["available"].(float64) != mem["limit"].(float64)-mem["used"].(float64) {
		t.Errorf("stats: %s", r.Raw)
	}
	for _, k := range []string{"usage", "coresUsed"} {
		if _, ok := cpu[k]; !ok {
			t.Errorf("cpu lacks %s", k)
		}
	}
	for _, k := range []string{"rx", "tx"} {
		if _, ok := netio[k]; !ok {
			t.Errorf("network lacks %s", k)
		}
	}
	r = e.Do(t, "GET", "/api/v1/containers/stats", nil, servertest.Master()...)
	if r.Status != 200 || r.JSON["timestamp"] == nil {
		t.Fatalf("all stats: %d %s", r.Status, r.Raw)
	}
	found := false
	for _, s := range r.JSON["containers"].([]any) {
		found = found || s.(map[string]any)["containerId"] == c.ID
	}
	if !found {
		t.Errorf("all stats lack %s", c.ID)
	}
}

// Logs over the stream: the tail then followed lines, stdout and stderr
// apart, until unsubscribe; unknown containers and callers who may not
// read containers get an error message.
func TestContainerLogsOverStream(t *testing.T) {
	e := startWithEngine(t, dockertest.Engine(t))
	c := dockertest.Run(t, "containers-logs", dockertest.RunOptions{Cmd: []string{"sh", "-c",
		"echo hello-out; echo hello-err >&2; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.1; done"}})
	live := openLive(t, e, servertest.MasterKey)
	live.send(t, "container.logs.subscribe", map[string]any{"containerId": c.ID, "tail": 100, "follow": true, "timestamps": false})
	seen := map[string]string{}
	ticks := 0
	for ticks < 3 || seen["hello-out"] == "" || seen["hello-err"] == "" {
		f := live.next(t, "container.logs.data", nil)
		var d struct{ ContainerID, Stream, Line string }
		if err := json.Unmarshal(f.Data, &d); err != nil || d.ContainerID != c.ID {
			t.Fatalf("data %s: %v", f.Data, err)
		}
		seen[d.Line] = d.Stream
		if strings.HasPrefix(d.Line, "tick-") {
			ticks++ // followed lines keep coming
		}
	}
	if seen["hello-out"] != "stdout" || seen["hello-err"] != "stderr" {
		t.Errorf("streams: %v", seen)
	}
	live.send(t, "container.logs.unsubscribe", map[string]any{"containerId": c.ID})
	live.next(t, "container.logs.unsubscribed", nil)
	// Nothing of the log follows the acknowledgement up to the answer to a
	// ping sent after it (the container writes ten lines a second).
	live.send(t, "ping", nil)
	live.next(t, "pong", func(f liveFrame) bool { return strings.HasPrefix(f.Type, "container.logs.") })

	live.send(t, "container.logs.subscribe", map[string]any{"containerId": "containers-nonexistent"})
	if f := live.next(t, "container.logs.error", nil); !strings.Contains(string(f.Data), `"code":"NOT_FOUND"`) {
		t.Errorf("unknown container: %s", f.Data)
	}
	e.CreateUser(t, "logs-admin", "password1", identity.GroupAdmin, "default")
	admin, _ := e.Login(t, "logs-admin", "password1")
	other := openLive(t, e, admin)
	other.send(t, "container.logs.subscribe", map[string]any{"containerId": c.ID})
	if f := other.next(t, "container.logs.error", nil); !strings.Contains(string(f.Data), `"code":"FORBIDDEN"`) {
		t.Errorf("group admin: %s", f.Data)
	}
	// A socket that goes away ends its subscriptions with it.
	live.send(t, "container.logs.subscribe", map[string]any{"containerId": c.ID, "tail": 0})
	live.next(t, "container.logs.data", nil)
	live.ws.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(containerWait)
	for e.Server.Live.Connections() > 1 {
		if time.Now().After(deadline) {
			t.Fatal("the socket was not let go")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proxyEngine serves a unix socket at path that forwards to the engine's
// socket, until the returned stop is called: then, as an engine that
// stops, it closes its socket and every connection.
func proxyEngine(tb testing.TB, path, engine string) (stop func()) {
	tb.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				defer c.Close()
				up, err := net.Dial("unix", strings.TrimPrefix(engine, "unix://"))
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
}

// An engine that is not there answers 503 CONTAINER_RUNTIME_UNAVAILABLE
// (the code the toolbox's routes answer too); when it appears the same server uses it, and when it goes away
// again the errors come back.
func TestContainerEngineDownAndUp(t *testing.T) {
	engine := dockertest.Engine(t)
	if !strings.HasPrefix(engine, "unix://") {
		t.Skip("the engine is not on a unix socket: " + engine)
	}
	sock := filepath.Join(t.TempDir(), "engine.sock")
	e := startWithEngine(t, "unix://"+sock)
	master := servertest.Master()
	down := func(when string) {
		t.Helper()
		for _, p := range []struct{ method, path string }{{"GET", "/api/v1/containers"}, {"GET", "/api/v1/containers/stats"},
			{"POST", "/api/v1/containers/any/start"}, {"GET", "/api/v1/containers/any"}} {
			if r := e.Do(t, p.method, p.path, nil, master...); r.Status != 503 || r.ErrorCode() != "CONTAINER_RUNTIME_UNAVAILABLE" ||
				!strings.Contains(string(r.Raw), "cannot be reached") {
				t.Errorf("%s: %s %s: %d %s", when, p.method, p.path, r.Status, r.Raw)
			}
		}
	}
	down("before the engine")
	stop := proxyEngine(t, sock, engine)
	if r := e.Do(t, "GET", "/api/v1/containers", nil, master...); r.Status != 200 {
		t.Errorf("with the engine: %d %s", r.Status, r.Raw)
	}
	stop()
	down("after the engine left")
}
