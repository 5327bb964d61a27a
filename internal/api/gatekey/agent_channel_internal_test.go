package gatekey

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// oneGateway authenticates one token as gateway gw-1 of group 1; the
// channel asks nothing else of the domain.
type oneGateway struct{ Gateways }

func (oneGateway) AuthenticateToken(_ context.Context, tok string) (*authz.Principal, error) {
	if tok != "gwt_good" {
		return nil, fault.New(fault.Unauthorized, "invalid gateway token")
	}
	return &authz.Principal{Kind: authz.KindGateway, Subject: "gw-1", GroupID: 1}, nil
}

func (oneGateway) CheckAgentNode(_ context.Context, _ *authz.Principal, nodeType string) error {
	if nodeType != "gateway" {
		return fault.New(fault.Forbidden, "no such node")
	}
	return nil
}

func (oneGateway) RecordAgent(context.Context, *authz.Principal, audit.Source, gateway.AgentKind) error {
	return nil
}

// TestAgentChannelKeepalive: netkeep pings every period; an agent that
// answers stays connected, one that falls silent for three periods is
// closed.
func TestAgentChannelKeepalive(t *testing.T) {
	t.Parallel()
	bus := event.NewLocal()
	t.Cleanup(func() { _ = bus.Close() })
	h := &Handlers{Gateways: oneGateway{}, Channel: &AgentChannel{Bus: bus, PingEvery: 300 * time.Millisecond}}
	srv := httptest.NewServer(http.HandlerFunc(h.agentChannel))
	t.Cleanup(srv.Close)

	dial := func(t *testing.T) *websocket.Conn {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t.Cleanup(cancel)
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.CloseNow() })
		auth, _ := json.Marshal(agentAuth{Token: "gwt_good", NodeType: "gateway", NodeID: "edge"})
		msg, _ := json.Marshal(agentMessage{Type: agentMsgAuth, Payload: auth})
		if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		return ws
	}
	read := func(t *testing.T, ws *websocket.Conn) (agentMessage, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, b, err := ws.Read(ctx)
		var m agentMessage
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		return m, err
	}

	t.Run("answered pings keep it open", func(t *testing.T) {
		ws := dial(t)
		if m, err := read(t, ws); err != nil || m.Type != agentMsgAuthResp {
			t.Fatalf("first message %+v, %v", m, err)
		}
		// Four periods, each ping answered: still open.
		for i := range 4 {
			m, err := read(t, ws)
			if err != nil || m.Type != agentMsgPing || m.Timestamp.IsZero() {
				t.Fatalf("message %d: %+v, %v; want a ping", i, m, err)
			}
			pong, _ := json.Marshal(agentMessage{Type: agentMsgPong, Timestamp: time.Now()})
			if err := ws.Write(context.Background(), websocket.MessageText, pong); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("a silent agent is closed", func(t *testing.T) {
		ws := dial(t)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := read(t, ws); err != nil {
				return // closed by netkeep
			}
		}
		t.Fatal("a silent agent's channel stayed open")
	})
}

// TestCutCommand: the common name reaches the management line quoted, and
// only as an argument of the script; names that cannot be sent give none.
func TestCutCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, cn, want string
		ok             bool
	}{
		{"plain", "alice", `'kill "alice"'`, true},
		{"quotes and backslash", `a"b\c'd`, `'kill "a\"b\\c'\''d"'`, true},
		{"shell metacharacters", "$(reboot);`x`", `'kill "$(reboot);` + "`x`" + `"'`, true},
		{"empty", "", "", false},
		{"newline", "alice\nkill all", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, ok := cutCommand(gateway.SessionCut{SessionID: "sess-1", CommonName: tc.cn})
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%q)", ok, tc.ok, cmd)
			}
			if !ok {
				return
			}
			if !strings.HasPrefix(cmd, "bash -c 'exec 3<>/dev/tcp/127.0.0.1/7505 ") || !strings.HasSuffix(cmd, " netkeep-session-cut "+tc.want) {
				t.Fatalf("command = %q, want the management line %s as its argument", cmd, tc.want)
			}
		})
	}
}
