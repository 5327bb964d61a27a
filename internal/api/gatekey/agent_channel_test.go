package gatekey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/event"
	"netkeep/internal/gateway"
	"netkeep/internal/server/servertest"
)

// GateKey's gateway agent's remote-session channel as its public source
// speaks it: every frame {"type", "id", "payload", "timestamp"}; the agent
// authenticates with {"token", "nodeType", "nodeId", "nodeName"} and reads
// auth_response {"success", "message", "agentId"}, then runs the payload
// of each "command" ({"command"}) and answers "ping" with "pong".
type (
	gkChannelMessage struct {
		Type      string          `json:"type"`
		ID        string          `json:"id,omitempty"`
		Payload   json.RawMessage `json:"payload,omitempty"`
		Timestamp time.Time       `json:"timestamp"`
	}
	gkChannelAuth struct {
		Token    string `json:"token"`
		NodeType string `json:"nodeType"`
		NodeID   string `json:"nodeId"`
		NodeName string `json:"nodeName"`
	}
	gkChannelAuthResponse struct {
		Success bool   `json:"success"`
		Message string `json:"message,omitempty"`
		AgentID string `json:"agentId,omitempty"`
	}
	gkChannelCommand struct {
		Command string `json:"command"`
	}
)

// gkAgent is one open channel, as gatekey-gateway holds it.
type gkAgent struct {
	ws  *websocket.Conn
	ctx context.Context
}

// dialAgent opens /ws/agent and sends the agent's auth message; it
// returns the channel and the auth_response's payload (or the type of the
// message that came instead).
func dialAgent(tb testing.TB, e *servertest.Env, auth gkChannelAuth) (*gkAgent, gkChannelMessage) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/ws/agent", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ws.CloseNow() })
	a := &gkAgent{ws: ws, ctx: ctx}
	a.send(tb, "auth", auth)
	return a, a.next(tb)
}

func (a *gkAgent) send(tb testing.TB, typ string, payload any) {
	tb.Helper()
	b, _ := json.Marshal(payload)
	m, _ := json.Marshal(gkChannelMessage{Type: typ, Payload: b, Timestamp: time.Now()})
	if err := a.ws.Write(a.ctx, websocket.MessageText, m); err != nil {
		tb.Fatal(err)
	}
}

// next reads the next message that is not a ping, answering pings as the
// agent does.
func (a *gkAgent) next(tb testing.TB) gkChannelMessage {
	tb.Helper()
	for {
		_, b, err := a.ws.Read(a.ctx)
		if err != nil {
			tb.Fatalf("reading the channel: %v", err)
		}
		var m gkChannelMessage
		if err := json.Unmarshal(b, &m); err != nil {
			tb.Fatalf("the agent could not decode %s: %v", b, err)
		}
		if m.Type == "ping" {
			a.send(tb, "pong", nil)
			continue
		}
		return m
	}
}

func authReply(tb testing.TB, m gkChannelMessage) gkChannelAuthResponse {
	tb.Helper()
	if m.Type != "auth_response" {
		tb.Fatalf("type = %q, want auth_response", m.Type)
	}
	var r gkChannelAuthResponse
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		tb.Fatalf("the agent could not decode %s: %v", m.Payload, err)
	}
	return r
}

// publishCut announces a session cut on gatewayID as the offboarding does.
func publishCut(tb testing.TB, e *servertest.Env, groupID int64, gatewayID string, cut gateway.SessionCut) {
	tb.Helper()
	b, _ := json.Marshal(cut)
	if err := e.Bus.Publish(context.Background(), event.Event{Topic: gateway.TopicGateway,
		Action: gateway.ActionSessionCut, GroupID: groupID, ID: gatewayID, Data: b}); err != nil {
		tb.Fatal(err)
	}
}

// wantCut fails unless m is the command that disconnects the client of
// session sid by common name cn.
func wantCut(tb testing.TB, m gkChannelMessage, sid, cn string) {
	tb.Helper()
	if m.Type != "command" || m.ID != "cut-"+sid {
		tb.Fatalf("got %s %q, want the command cut-%s", m.Type, m.ID, sid)
	}
	var c gkChannelCommand
	if err := json.Unmarshal(m.Payload, &c); err != nil {
		tb.Fatalf("the agent could not decode %s: %v", m.Payload, err)
	}
	if !strings.HasPrefix(c.Command, "bash -c ") || !strings.Contains(c.Command, `'kill "`+cn+`"'`) {
		tb.Fatalf("command = %q, want a management kill of %q", c.Command, cn)
	}
}

func TestAgentChannelRelaysSessionCuts(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		acme := f.acmeAdmin.GroupID
		gwA, tokA := f.gateway(t, map[string]any{"name": "edge-a"})
		gwA2, tokA2 := f.gateway(t, map[string]any{"name": "edge-a2"})
		// globex's gateway, with the same session names.
		d := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "edge-b", "hostname": "vpn-b.example.com"}), http.StatusCreated)
		gwB, tokB := d["id"].(string), d["token"].(string)

		a, m := dialAgent(t, e, gkChannelAuth{Token: tokA, NodeType: "gateway", NodeID: "edge-a", NodeName: "edge-a"})
		if r := authReply(t, m); !r.Success || r.AgentID != gwA {
			t.Fatalf("auth_response = %+v, want success for %s", r, gwA)
		}
		a2, m := dialAgent(t, e, gkChannelAuth{Token: tokA2, NodeType: "gateway", NodeID: "edge-a2"})
		if r := authReply(t, m); !r.Success {
			t.Fatalf("auth_response = %+v", r)
		}
		b, m := dialAgent(t, e, gkChannelAuth{Token: tokB, NodeType: "gateway", NodeID: "edge-b"})
		if r := authReply(t, m); !r.Success {
			t.Fatalf("auth_response = %+v", r)
		}
		f.audited(t, "gateway.agent", "gateway:"+gwA)

		// Cuts of other gateways and a cut naming gwA in another group
		// reach nobody; each agent's first command is its own.
		publishCut(t, e, f.globexAdmin.GroupID, gwA, gateway.SessionCut{SessionID: "sess-wrong-group", CommonName: "alice"})
		publishCut(t, e, acme, gwA2, gateway.SessionCut{SessionID: "sess-a2", CommonName: "bob"})
		publishCut(t, e, acme, gwA, gateway.SessionCut{SessionID: "sess-1", CommonName: `alice "o'hara"`,
			SerialNumber: "0a1b", ClientIP: "203.0.113.7", Reason: "offboarded"})
		publishCut(t, e, f.globexAdmin.GroupID, gwB, gateway.SessionCut{SessionID: "sess-b", CommonName: "carol"})
		wantCut(t, a.next(t), "sess-1", `alice \"o'\''hara\"`)
		wantCut(t, a2.next(t), "sess-a2", "bob")
		wantCut(t, b.next(t), "sess-b", "carol")

		// The agent reports the command's output; the channel stays open.
		exit := 0
		out, _ := json.Marshal(map[string]any{"output": "SUCCESS: common name 'alice' found, 1 client(s) killed\n",
			"done": true, "exitCode": exit})
		msg, _ := json.Marshal(gkChannelMessage{Type: "output", ID: "cut-sess-1", Payload: out, Timestamp: time.Now()})
		if err := a.ws.Write(a.ctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		publishCut(t, e, acme, gwA, gateway.SessionCut{SessionID: "sess-2", CommonName: "alice"})
		wantCut(t, a.next(t), "sess-2", "alice")

		// A new token ends the channel of the old one.
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/gateways/"+gwA+"/regenerate-token", nil), http.StatusOK)
		if _, _, err := a.ws.Read(a.ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("after a new token: %v, want the channel closed (policy violation)", err)
		}
	})
}

func TestAgentChannelRefusals(t *testing.T) {
	e := servertest.Start(t, "sqlite")
	f := newGWFixture(t, e)
	_, tok := f.gateway(t, map[string]any{"name": "edge"})
	cases := []struct {
		name     string
		auth     gkChannelAuth
		wantType string
		wantMsg  string
	}{
		{"bad token", gkChannelAuth{Token: "gwt_not-a-token", NodeType: "gateway", NodeID: "edge"}, "auth_response", "Invalid token"},
		{"no token", gkChannelAuth{NodeType: "gateway", NodeID: "edge"}, "auth_response", "Invalid token"},
		{"a user's token", gkChannelAuth{Token: f.admin, NodeType: "gateway", NodeID: "edge"}, "auth_response", "Invalid token"},
		{"hub agent of no hub", gkChannelAuth{Token: tok, NodeType: "hub", NodeID: "edge"}, "auth_response", "this token's gateway is no hub node"},
		{"spoke agent of no hub", gkChannelAuth{Token: tok, NodeType: "spoke", NodeID: "edge"}, "auth_response", "this token's gateway is no spoke node"},
		{"unknown node type", gkChannelAuth{Token: tok, NodeType: "robot", NodeID: "edge"}, "auth_response", "this token's gateway is no robot node"},
		{"hub type, bad token", gkChannelAuth{Token: "gwt_x", NodeType: "hub", NodeID: "edge"}, "auth_response", "Invalid token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, m := dialAgent(t, e, tc.auth)
			if r := authReply(t, m); r.Success || r.Message != tc.wantMsg {
				t.Fatalf("auth_response = %+v, want refused: %s", r, tc.wantMsg)
			}
			if _, _, err := a.ws.Read(a.ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("after a refusal: %v, want closed (policy violation)", err)
			}
		})
	}
	t.Run("first message not auth", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/ws/agent", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		a := &gkAgent{ws: ws, ctx: ctx}
		a.send(t, "pong", nil)
		if m := a.next(t); m.Type != "error" || !strings.Contains(string(m.Payload), "Expected auth message") {
			t.Fatalf("got %s %s, want an error", m.Type, m.Payload)
		}
	})
	t.Run("plain GET", func(t *testing.T) {
		r := e.Do(t, "GET", "/ws/agent", nil)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusUpgradeRequired {
			t.Fatalf("status = %d, want a refused upgrade: %s", r.Status, r.Raw)
		}
	})
}

// TestAgentChannelHubAndSpokeAgents replays gatekey-hub ("hub") and
// gatekey-mesh-gateway ("spoke") opening the channel with their
// gateways' tokens; each gets its own gateway's session cuts, and
// another group's hub token is no hub here.
func TestAgentChannelHubAndSpokeAgents(t *testing.T) {
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		acme := f.acmeAdmin.GroupID
		hubGW, hubTok := f.gateway(t, map[string]any{"name": "hub-gw"})
		spokeGW, spokeTok := f.gateway(t, map[string]any{"name": "branch"})
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW,
			"spokes": []map[string]string{{"type": "gateway", "id": spokeGW}}}), http.StatusCreated)

		hub, m := dialAgent(t, e, gkChannelAuth{Token: hubTok, NodeType: "hub", NodeID: "core", NodeName: "core"})
		if r := authReply(t, m); !r.Success || r.AgentID != hubGW {
			t.Fatalf("hub auth_response = %+v", r)
		}
		spoke, m := dialAgent(t, e, gkChannelAuth{Token: spokeTok, NodeType: "spoke", NodeID: "branch", NodeName: "branch"})
		if r := authReply(t, m); !r.Success || r.AgentID != spokeGW {
			t.Fatalf("spoke auth_response = %+v", r)
		}
		// The hub's token is no spoke, the spoke's no hub.
		_, m = dialAgent(t, e, gkChannelAuth{Token: hubTok, NodeType: "spoke", NodeID: "core"})
		if r := authReply(t, m); r.Success {
			t.Fatalf("a hub's token as a spoke: %+v", r)
		}
		_, m = dialAgent(t, e, gkChannelAuth{Token: spokeTok, NodeType: "hub", NodeID: "branch"})
		if r := authReply(t, m); r.Success {
			t.Fatalf("a spoke's token as a hub: %+v", r)
		}
		// globex's hub gateway is no hub of acme's, and its token is its own.
		d := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "edge-b", "hostname": "vpn-b.example.com"}), http.StatusCreated)
		_, m = dialAgent(t, e, gkChannelAuth{Token: d["token"].(string), NodeType: "hub", NodeID: "core"})
		if r := authReply(t, m); r.Success {
			t.Fatalf("globex's gateway as acme's hub: %+v", r)
		}

		publishCut(t, e, acme, spokeGW, gateway.SessionCut{SessionID: "sess-spoke", CommonName: "bob"})
		publishCut(t, e, acme, hubGW, gateway.SessionCut{SessionID: "sess-hub", CommonName: "alice"})
		wantCut(t, hub.next(t), "sess-hub", "alice")
		wantCut(t, spoke.next(t), "sess-spoke", "bob")
	})
}
