package live

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/activity"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/container"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// wait bounds every wait of these tests; messages arrive in milliseconds.
const wait = 10 * time.Second

// testHub is a Hub on a local bus behind an httptest server. Tokens are
// the keys of principals; "/ws" runs the whole protocol, "/as/{token}"
// skips the auth message (for principals authz cannot check yet).
type testHub struct {
	hub *Hub
	bus *event.Local
	// deliver offers an event as another replica published it.
	deliver func(event.Event) error
	url     string
}

func startHub(tb testing.TB, cfg Config, principals map[string]*authz.Principal) *testHub {
	tb.Helper()
	bus, deliver := event.NewRelay()
	cfg.Bus = bus
	cfg.Authenticate = func(_ context.Context, token string) (*authz.Principal, error) {
		if p := principals[token]; p != nil {
			return p, nil
		}
		return nil, fault.New(fault.Unauthorized, "invalid token")
	}
	cfg.Hello = Hello{NexusID: "nexus_test", Version: "test"}
	h := New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/ws", h)
	mux.HandleFunc("/as/{token}", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		h.serve(context.WithoutCancel(r.Context()), ws, principals[r.PathValue("token")])
	})
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		bus.Close()
	})
	return &testHub{hub: h, bus: bus, deliver: deliver, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

func (th *testHub) publish(tb testing.TB, e event.Event) {
	tb.Helper()
	if err := th.bus.Publish(context.Background(), e); err != nil {
		tb.Fatal(err)
	}
}

// frame is a received message with its data left raw.
type frame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// client reads its socket into msgs until the socket ends (end gets the
// error), unless it was dialled not to read.
type client struct {
	ws   *websocket.Conn
	msgs chan frame
	end  chan error
}

func dial(tb testing.TB, url string, opts *websocket.DialOptions) *websocket.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	ws.SetReadLimit(-1)
	tb.Cleanup(func() { ws.CloseNow() })
	return ws
}

func (c *client) read() {
	for {
		_, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.end <- err
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.end <- err
			return
		}
		c.msgs <- f
	}
}

func writeJSON(tb testing.TB, ws *websocket.Conn, v any) {
	tb.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// connect opens the stream with token and reads until hello.
func (th *testHub) connect(tb testing.TB, token string) *client {
	tb.Helper()
	c := &client{ws: dial(tb, th.url+"/ws", nil), msgs: make(chan frame, 1024), end: make(chan error, 1)}
	go c.read()
	writeJSON(tb, c.ws, map[string]any{"type": "auth", "data": map[string]string{"token": token}})
	c.expect(tb, TypeAuthSuccess)
	c.expect(tb, TypeHello)
	return c
}

// as opens a socket for token's principal without the auth message.
func (th *testHub) as(tb testing.TB, token string) *client {
	tb.Helper()
	c := &client{ws: dial(tb, th.url+"/as/"+token, nil), msgs: make(chan frame, 1024), end: make(chan error, 1)}
	go c.read()
	c.expect(tb, TypeAuthSuccess)
	c.expect(tb, TypeHello)
	return c
}

func (c *client) next(tb testing.TB) frame {
	tb.Helper()
	select {
	case f := <-c.msgs:
		return f
	case err := <-c.end:
		tb.Fatalf("socket ended while waiting for a message: %v", err)
	case <-time.After(wait):
		tb.Fatalf("no message within %v", wait)
	}
	return frame{}
}

func (c *client) expect(tb testing.TB, typ string) frame {
	tb.Helper()
	f := c.next(tb)
	if f.Type != typ {
		tb.Fatalf("got %s %s, want %s", f.Type, f.Data, typ)
	}
	return f
}

// closed waits for the socket to end and returns the server's close code.
func (c *client) closed(tb testing.TB) websocket.StatusCode {
	tb.Helper()
	for {
		select {
		case <-c.msgs:
		case err := <-c.end:
			return websocket.CloseStatus(err)
		case <-time.After(wait):
			tb.Fatalf("socket not closed within %v", wait)
			return 0
		}
	}
}

func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not within %v: %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func scopes(tb testing.TB, names ...string) authz.Scopes {
	tb.Helper()
	s, err := authz.ParseScopes(names)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func pushEvent(tb testing.TB, gid int64, devices []string, payload string) event.Event {
	tb.Helper()
	b, err := json.Marshal(activity.Push{DeviceIDs: devices, Payload: json.RawMessage(payload)})
	if err != nil {
		tb.Fatal(err)
	}
	return event.Event{Topic: activity.TopicWebhook, Action: "notify", GroupID: gid, Data: b}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	push, _ := json.Marshal(activity.Push{DeviceIDs: []string{"d1"}, Payload: json.RawMessage(`{"a":1}`)})
	tests := []struct {
		name     string
		e        event.Event
		wantType string // "" when the event is not sent
		action   authz.Action
		data     string // the data, when checked
	}{
		{"psk", event.Event{Topic: "psk", Action: "created", GroupID: 1, ID: "7", Data: json.RawMessage(`{"psk_id":"secretish"}`)},
			"psk.created", "psks:read", `{"id":"7","topic":"psk","action":"created","groupId":1}`},
		{"gateway action named with its topic", event.Event{Topic: "gateway", Action: "gateway.created", ID: "g"}, "gateway.created", "gateways:read", ""},
		{"gateway sub-object", event.Event{Topic: "gateway", Action: "rule.created", ID: "r"}, "gateway.rule.created", "gateways:read", ""},
		{"node", event.Event{Topic: "node", Action: "deleted", ID: "3"}, "node.deleted", "nodes:read", ""},
		{"api key", event.Event{Topic: "apikey", Action: "created", ID: "k"}, "apikey.created", "apikeys:manage", ""},
		{"device paired", event.Event{Topic: TopicDevice, Action: "paired", ID: "d1", Data: json.RawMessage(`{"deviceName":"Phone","platform":"ios","token":"x"}`)},
			TypeDevicePaired, "devices:read", `{"deviceId":"d1","deviceName":"Phone","platform":"ios"}`},
		{"device revoked", event.Event{Topic: TopicDevice, Action: "revoked", ID: "d1"}, TypeDeviceRevoked, "devices:read",
			`{"deviceId":"d1","message":"Device access has been revoked"}`},
		{"webhook", event.Event{Topic: activity.TopicWebhook, Action: "notify", Data: push}, TypeWebhook, "devices:read", `{"a":1}`},
		{"webhook without data (too large for NOTIFY)", event.Event{Topic: activity.TopicWebhook, Action: "notify"}, "", "", ""},
		{"discovery", event.Event{Topic: catalog.TopicDiscovery, Action: "created", Data: json.RawMessage(`{"id":"p"}`)}, TypeDiscovery, "apps:read", `{"id":"p"}`},
		{"health", event.Event{Topic: catalog.TopicApp, Action: catalog.ActionHealthChange, Data: json.RawMessage(`{"appId":"grafana","status":"unhealthy"}`)},
			TypeHealthChange, "apps:read", `{"appId":"grafana","status":"unhealthy"}`},
		{"app", event.Event{Topic: catalog.TopicApp, Action: "created", ID: "grafana"}, "app.created", "apps:read", ""},
		{"config", event.Event{Topic: TopicConfig, Action: "reloaded"}, TypeConfigReload, "apps:read", `{"message":"Configuration reloaded"}`},
		{"container", event.Event{Topic: TopicContainer, Action: "container.start.completed", Data: json.RawMessage(`{"containerId":"c1","status":"started"}`)},
			"container.start.completed", "containers:read", `{"containerId":"c1","status":"started"}`},
		{"session is never sent", event.Event{Topic: "session", Action: "revoked", ID: "s"}, "", "", ""},
		{"unknown topic is never sent", event.Event{Topic: "secret-stuff", Action: "x"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := translate(tt.e)
			if ok != (tt.wantType != "") {
				t.Fatalf("translated = %v, want %v", ok, tt.wantType != "")
			}
			if !ok {
				return
			}
			var m frame
			if err := json.Unmarshal(d.msg, &m); err != nil {
				t.Fatal(err)
			}
			if m.Type != tt.wantType || d.action != tt.action {
				t.Errorf("type %s action %s, want %s %s", m.Type, d.action, tt.wantType, tt.action)
			}
			if tt.data != "" && string(m.Data) != tt.data {
				t.Errorf("data %s, want %s", m.Data, tt.data)
			}
		})
	}
}

// Every socket gets exactly the events its principal may read, of its own
// group (super principals: every group), in publishing order.
func TestHubDeliversByScopeAndGroup(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{
		"admin-a":  {Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: 1, UserID: 1, SessionID: "s1"},
		"user-a":   {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 2, SessionID: "s2"},
		"events-a": {Kind: authz.KindAPIKey, Role: authz.GroupAdmin, GroupID: 1, UserID: 1, KeyID: "k1", Scopes: scopes(t, "read:events")},
		"reads-a":  {Kind: authz.KindAPIKey, Role: authz.GroupAdmin, GroupID: 1, UserID: 1, KeyID: "k2", Scopes: scopes(t, "read:*")},
		"admin-b":  {Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: 2, UserID: 3, SessionID: "s3"},
		"super":    {Kind: authz.KindUser, Role: authz.SuperAdmin, GroupID: 9, UserID: 4, SessionID: "s4"},
	}
	th := startHub(t, Config{}, principals)
	clients := map[string]*client{}
	for name := range principals {
		clients[name] = th.connect(t, name)
	}
	for _, e := range []event.Event{
		{Topic: "psk", Action: "created", GroupID: 1, ID: "1"},
		{Topic: "group", Action: "updated", GroupID: 1, ID: "group:1"},
		{Topic: "psk", Action: "created", GroupID: 2, ID: "2"},
		{Topic: "pki", Action: "crl", ID: "5"}, // server-wide
		{Topic: "session", Action: "revoked", GroupID: 1, ID: "other"},
		{Topic: "user", Action: "updated", GroupID: 2, ID: "3"},
		pushEvent(t, 1, nil, `{"n":1}`),
		{Topic: TopicDevice, Action: "paired", GroupID: 2, ID: "end-b"},
		{Topic: TopicDevice, Action: "paired", GroupID: 1, ID: "end-a"},
	} {
		th.publish(t, e)
	}
	want := map[string][]string{
		"admin-a":  {"psk.created", "group.updated", "pki.crl", TypeWebhook, TypeDevicePaired},
		"user-a":   {"psk.created", "group.updated", "pki.crl", TypeWebhook, TypeDevicePaired},
		"events-a": {TypeWebhook, TypeDevicePaired},
		"reads-a":  {"psk.created", "group.updated", "pki.crl", TypeWebhook, TypeDevicePaired},
		"admin-b":  {"psk.created", "pki.crl", "user.updated", TypeDevicePaired},
		"super":    {"psk.created", "group.updated", "psk.created", "pki.crl", "user.updated", TypeWebhook, TypeDevicePaired, TypeDevicePaired},
	}
	for name, types := range want {
		t.Run(name, func(t *testing.T) {
			for _, typ := range types {
				clients[name].expect(t, typ)
			}
			select {
			case f := <-clients[name].msgs:
				t.Errorf("unexpected %s %s", f.Type, f.Data)
			default:
			}
		})
	}
}

func TestHubHandshake(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{
		"ok":      {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 1},
		"catalog": {Kind: authz.KindAPIKey, Role: authz.GroupAdmin, GroupID: 1, KeyID: "k", Scopes: scopes(t, "read:catalog")},
	}
	th := startHub(t, Config{AuthWithin: 300 * time.Millisecond}, principals)
	tests := []struct {
		name     string
		send     any // nil: send nothing
		wantCode string
	}{
		{"unknown token", map[string]any{"type": "auth", "data": map[string]string{"token": "nope"}}, "UNAUTHORIZED"},
		{"no token", map[string]any{"type": "auth", "data": map[string]string{}}, "UNAUTHORIZED"},
		{"not an auth message", map[string]any{"type": "ping"}, "INVALID_REQUEST"},
		{"not JSON", "hello", "INVALID_REQUEST"},
		{"scope without read:events", map[string]any{"type": "auth", "data": map[string]string{"token": "catalog"}}, "FORBIDDEN"},
		{"nothing sent in time", nil, "UNAUTHORIZED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &client{ws: dial(t, th.url+"/ws", nil), msgs: make(chan frame, 8), end: make(chan error, 1)}
			go c.read()
			switch s := tt.send.(type) {
			case nil:
			case string:
				if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
					t.Fatal(err)
				}
			default:
				writeJSON(t, c.ws, s)
			}
			f := c.expect(t, TypeAuthFailed)
			var d authFailed
			if err := json.Unmarshal(f.Data, &d); err != nil || d.Code != tt.wantCode || d.Error == "" {
				t.Errorf("auth_failed data %s, want code %s", f.Data, tt.wantCode)
			}
			if code := c.closed(t); code != websocket.StatusPolicyViolation {
				t.Errorf("closed with %d, want %d", code, websocket.StatusPolicyViolation)
			}
		})
	}
	t.Run("hello and ping", func(t *testing.T) {
		t.Parallel()
		c := &client{ws: dial(t, th.url+"/ws", nil), msgs: make(chan frame, 8), end: make(chan error, 1)}
		go c.read()
		writeJSON(t, c.ws, map[string]any{"type": "auth", "data": map[string]string{"token": "ok"}})
		var ok authSuccess
		if err := json.Unmarshal(c.expect(t, TypeAuthSuccess).Data, &ok); err != nil || ok.DeviceID != "user:1" {
			t.Errorf("auth_success %+v", ok)
		}
		var hi hello
		if err := json.Unmarshal(c.expect(t, TypeHello).Data, &hi); err != nil || hi.NexusID != "nexus_test" || hi.Timestamp == 0 {
			t.Errorf("hello %+v", hi)
		}
		writeJSON(t, c.ws, map[string]any{"type": "pong"}) // accepted, unanswered
		writeJSON(t, c.ws, map[string]any{"type": "ping"})
		c.expect(t, TypePong)
	})
}

// A socket that does not read fills its queue and is closed; publishing
// never waits for it, and the others get every message.
func TestHubSlowConsumerDropped(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{
		"fast": {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 1},
		"slow": {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 2},
	}
	// No pings within the test: the socket that never reads would fail one
	// and be closed as silent, not counted as a slow consumer, whenever the
	// test runs longer than the ping interval (a loaded machine).
	th := startHub(t, Config{Queue: 8, WriteWithin: time.Second, PingEvery: time.Hour, PongWithin: time.Hour}, principals)
	fast := th.connect(t, "fast")
	slow := dial(t, th.url+"/ws", nil) // authenticates, then never reads
	writeJSON(t, slow, map[string]any{"type": "auth", "data": map[string]string{"token": "slow"}})
	eventually(t, "both sockets registered", func() bool { return th.hub.Connections() == 2 })

	// Each message reaches the fast socket before the next is published, so
	// only the slow one's queue grows: the hub's fan-out is never held up.
	big := `{"fill":"` + strings.Repeat("x", 512<<10) + `"}`
	for i := 0; th.hub.SlowConsumers() == 0; i++ {
		if i == 100 { // 50 MiB: far beyond the socket buffers and the queue
			t.Fatal("the socket that does not read was never dropped")
		}
		th.publish(t, pushEvent(t, 1, nil, big))
		fast.expect(t, TypeWebhook)
	}
	eventually(t, "the slow consumer dropped", func() bool {
		return th.hub.SlowConsumers() == 1 && th.hub.Connections() == 1
	})
}

// The server pings every socket; one that answers stays, one that does not
// is closed.
func TestHubPing(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{
		"alive": {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 1},
		"mute":  {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 2},
	}
	th := startHub(t, Config{PingEvery: 160 * time.Millisecond, PongWithin: 300 * time.Millisecond}, principals)
	var mu sync.Mutex
	pings := 0
	alive := &client{msgs: make(chan frame, 64), end: make(chan error, 1)}
	alive.ws = dial(t, th.url+"/ws", &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		pings++
		return true
	}})
	go alive.read() // reading answers pings
	writeJSON(t, alive.ws, map[string]any{"type": "auth", "data": map[string]string{"token": "alive"}})
	alive.expect(t, TypeAuthSuccess)

	mute := dial(t, th.url+"/ws", nil)
	writeJSON(t, mute, map[string]any{"type": "auth", "data": map[string]string{"token": "mute"}})
	// mute never reads, so its pongs never go out: the server closes it.
	eventually(t, "the mute socket closed and the other pinged three times", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return pings >= 3 && th.hub.Connections() == 1
	})
	select {
	case err := <-alive.end:
		t.Fatalf("the answering socket was closed: %v", err)
	default:
	}
}

// Revoking a credential closes its sockets: a device is told with
// device_revoked first; other sockets stay.
func TestHubRevocationClosesSockets(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{
		"phone":  {Kind: authz.KindDevice, Subject: "phone", Role: authz.GroupAdmin, GroupID: 1, UserID: 1, Scopes: scopes(t, "read:events")},
		"tablet": {Kind: authz.KindDevice, Subject: "tablet", Role: authz.GroupAdmin, GroupID: 1, UserID: 1, Scopes: scopes(t, "read:events")},
		"other":  {Kind: authz.KindDevice, Subject: "phone-b", Role: authz.GroupAdmin, GroupID: 2, UserID: 2, Scopes: scopes(t, "read:events")},
		"user":   {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 3, SessionID: "sess"},
		"key":    {Kind: authz.KindAPIKey, Role: authz.GroupAdmin, GroupID: 1, UserID: 1, KeyID: "key_1", Scopes: scopes(t, "read:events")},
	}
	th := startHub(t, Config{}, principals)
	phone, tablet, other := th.as(t, "phone"), th.as(t, "tablet"), th.as(t, "other")
	user, key := th.connect(t, "user"), th.connect(t, "key")
	if !th.hub.Online("phone") || !th.hub.Online("phone-b") || th.hub.Online("laptop") || th.hub.DevicesOnline(1) != 2 || th.hub.DevicesOnline(0) != 3 {
		t.Fatalf("online: %v %v %v %d %d", th.hub.Online("phone"), th.hub.Online("phone-b"), th.hub.Online("laptop"),
			th.hub.DevicesOnline(1), th.hub.DevicesOnline(0))
	}
	th.publish(t, event.Event{Topic: TopicDevice, Action: "revoked", GroupID: 1, ID: "phone"})
	var d deviceData
	if err := json.Unmarshal(phone.expect(t, TypeDeviceRevoked).Data, &d); err != nil || d.DeviceID != "phone" {
		t.Errorf("device_revoked data %+v", d)
	}
	if code := phone.closed(t); code != websocket.StatusPolicyViolation {
		t.Errorf("revoked device closed with %d", code)
	}
	eventually(t, "the revoked phone offline", func() bool { return !th.hub.Online("phone") && th.hub.DevicesOnline(1) == 1 })
	th.publish(t, event.Event{Topic: "session", Action: "revoked", GroupID: 1, ID: "sess"})
	if code := user.closed(t); code != websocket.StatusPolicyViolation {
		t.Errorf("ended session closed with %d", code)
	}
	th.publish(t, event.Event{Topic: "apikey", Action: "revoked", GroupID: 1, ID: "key_1"})
	if code := key.closed(t); code != websocket.StatusPolicyViolation {
		t.Errorf("revoked key closed with %d", code)
	}
	// The others are still served.
	th.publish(t, pushEvent(t, 1, []string{"tablet"}, `{"still":"here"}`))
	tablet.expect(t, TypeWebhook)
	// Revoking names the device's group: a device of another group is not
	// touched (the push after it arrives, on an open socket).
	th.publish(t, event.Event{Topic: TopicDevice, Action: "revoked", GroupID: 1, ID: "phone-b"})
	th.publish(t, pushEvent(t, 2, []string{"phone-b"}, `{"still":"here"}`))
	other.expect(t, TypeWebhook)
	if !th.hub.Online("phone-b") {
		t.Error("group 2's device went offline on group 1's revocation")
	}
}

// A push to listed devices reaches only those devices of the event's group.
func TestHubTargetedPush(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{
		"phone":  {Kind: authz.KindDevice, Subject: "phone", Role: authz.GroupAdmin, GroupID: 1, UserID: 1, Scopes: scopes(t, "read:events")},
		"tablet": {Kind: authz.KindDevice, Subject: "tablet", Role: authz.GroupAdmin, GroupID: 1, UserID: 1, Scopes: scopes(t, "read:events")},
		"b":      {Kind: authz.KindDevice, Subject: "phone", Role: authz.GroupAdmin, GroupID: 2, UserID: 2, Scopes: scopes(t, "read:events")},
		"admin":  {Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: 1, UserID: 1},
	}
	th := startHub(t, Config{}, principals)
	clients := map[string]*client{}
	for name, p := range principals {
		if p.Kind == authz.KindDevice {
			clients[name] = th.as(t, name)
		} else {
			clients[name] = th.connect(t, name)
		}
	}
	th.publish(t, pushEvent(t, 1, []string{"phone"}, `{"to":"phone"}`))
	th.publish(t, pushEvent(t, 2, []string{"phone"}, `{"to":"b"}`))
	if f := clients["phone"].expect(t, TypeWebhook); string(f.Data) != `{"to":"phone"}` {
		t.Errorf("phone got %s", f.Data)
	}
	if f := clients["b"].expect(t, TypeWebhook); string(f.Data) != `{"to":"b"}` {
		t.Errorf("group 2's phone got %s", f.Data)
	}
	for _, name := range []string{"tablet", "admin"} {
		select {
		case f := <-clients[name].msgs:
			t.Errorf("%s got %s %s", name, f.Type, f.Data)
		default:
		}
	}
}

// Stopping the hub closes every socket as going away, and later sockets
// are refused the same way.
func TestHubShutdown(t *testing.T) {
	t.Parallel()
	principals := map[string]*authz.Principal{"u": {Kind: authz.KindUser, Role: authz.User, GroupID: 1, UserID: 1}}
	bus := event.NewLocal()
	defer bus.Close()
	h := New(Config{Bus: bus, Authenticate: func(context.Context, string) (*authz.Principal, error) { return principals["u"], nil }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	th := &testHub{hub: h, bus: bus, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
	c := &client{ws: dial(t, th.url, nil), msgs: make(chan frame, 8), end: make(chan error, 1)}
	go c.read()
	writeJSON(t, c.ws, map[string]any{"type": "auth", "data": map[string]string{"token": "u"}})
	c.expect(t, TypeAuthSuccess)
	c.expect(t, TypeHello)
	cancel()
	<-done
	if code := c.closed(t); code != websocket.StatusGoingAway {
		t.Errorf("closed with %d, want going away", code)
	}
	late := &client{ws: dial(t, th.url, nil), msgs: make(chan frame, 8), end: make(chan error, 1)}
	go late.read()
	writeJSON(t, late.ws, map[string]any{"type": "auth", "data": map[string]string{"token": "u"}})
	if code := late.closed(t); code != websocket.StatusGoingAway {
		t.Errorf("late socket closed with %d, want going away", code)
	}
}

// TestHubHealthIsEachReplicasOwn: every replica checks every upstream, so
// a socket hears health_change from its own replica only (once, and the
// view its replica's API lists), while other changes cross replicas.
func TestHubHealthIsEachReplicasOwn(t *testing.T) {
	t.Parallel()
	admin := &authz.Principal{Kind: authz.KindUser, Role: authz.GroupAdmin, GroupID: 1, UserID: 1, SessionID: "s1"}
	th := startHub(t, Config{}, map[string]*authz.Principal{"admin": admin})
	c := th.connect(t, "admin")
	health := func(origin string) event.Event {
		return event.Event{Topic: catalog.TopicApp, Action: catalog.ActionHealthChange, GroupID: 1, ID: "grafana", Origin: origin,
			Data: json.RawMessage(`{"appId":"grafana","status":"unhealthy"}`), Time: time.Now()}
	}
	if err := th.deliver(health("other-replica")); err != nil {
		t.Fatal(err)
	}
	th.publish(t, health(""))
	if err := th.deliver(event.Event{Topic: "psk", Action: "created", GroupID: 1, ID: "7", Origin: "other-replica", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c.expect(t, TypeHealthChange) // this replica's
	c.expect(t, "psk.created")    // the other replica's health_change never came
}

// TestHubContainerStateIsEachReplicasOwn: every replica follows the
// engine's events, so a socket hears container.state from its own replica
// only (once), while the completion of an operation another replica ran
// crosses replicas.
func TestHubContainerStateIsEachReplicasOwn(t *testing.T) {
	t.Parallel()
	super := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	th := startHub(t, Config{}, map[string]*authz.Principal{"super": super})
	c := th.connect(t, "super")
	state := func(origin string) event.Event {
		return event.Event{Topic: TopicContainer, Action: container.TypeState, ID: "c1", Origin: origin,
			Data: json.RawMessage(`{"containerId":"c1","state":"exited"}`), Time: time.Now()}
	}
	if err := th.deliver(state("other-replica")); err != nil {
		t.Fatal(err)
	}
	th.publish(t, state(""))
	if err := th.deliver(event.Event{Topic: TopicContainer, Action: "container.stop.completed", ID: "c2", Origin: "other-replica",
		Data: json.RawMessage(`{"containerId":"c2","status":"stopped"}`), Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	c.expect(t, container.TypeState)        // this replica's
	c.expect(t, "container.stop.completed") // the other replica's container.state never came
}
