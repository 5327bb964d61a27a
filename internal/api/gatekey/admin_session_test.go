package gatekey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/server/servertest"
)

// gatekey-admin's remote session frames (cmd/gatekey-admin), as it
// decodes them: it reads is_stderr and exit_code.
type (
	gkSessionOutput struct {
		Output   string `json:"output"`
		IsStderr bool   `json:"is_stderr"`
		ExitCode *int   `json:"exit_code,omitempty"`
		Done     bool   `json:"done"`
	}
	// gkAgentSpelling is the same frame as GateKey's agent spells it.
	gkAgentSpelling struct {
		IsStderr bool `json:"isStderr"`
		ExitCode *int `json:"exitCode"`
	}
	gkSessionError struct {
		Message string `json:"message"`
	}
)

// adminSession is gatekey-admin's end of /ws/admin/session.
type adminSession struct{ gkAgent }

// dialSession opens the session as gatekey-admin does (Authorization:
// Bearer, no Origin) and reads the agent_list it gets first.
func dialSession(tb testing.TB, e *servertest.Env, token string) (*adminSession, []gkRemoteSessionAgent) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/ws/admin/session",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ws.CloseNow() })
	s := &adminSession{gkAgent{ws: ws, ctx: ctx}}
	m := s.next(tb)
	var list struct {
		Agents []gkRemoteSessionAgent `json:"agents"`
	}
	if m.Type != "agent_list" || json.Unmarshal(m.Payload, &list) != nil {
		tb.Fatalf("first frame %s %s, want agent_list", m.Type, m.Payload)
	}
	return s, list.Agents
}

// errorOf fails unless m is an error frame; it returns its message.
func errorOf(tb testing.TB, m gkChannelMessage) string {
	tb.Helper()
	var e gkSessionError
	if m.Type != "error" || json.Unmarshal(m.Payload, &e) != nil || e.Message == "" {
		tb.Fatalf("got %s %s, want an error", m.Type, m.Payload)
	}
	return e.Message
}

// runCommand sends a command and reads its output until done, as
// gatekey-admin's "session exec" does.
func (s *adminSession) runCommand(tb testing.TB, command string) (stdout, stderr string, exit int) {
	tb.Helper()
	s.send(tb, "command", map[string]string{"command": command})
	return s.output(tb)
}

// output reads one command's output frames until its done frame.
func (s *adminSession) output(tb testing.TB) (stdout, stderr string, exit int) {
	tb.Helper()
	for {
		m := s.next(tb)
		if m.Type != "output" {
			tb.Fatalf("got %s %s, want output", m.Type, m.Payload)
		}
		var out gkSessionOutput
		var agent gkAgentSpelling
		if json.Unmarshal(m.Payload, &out) != nil || json.Unmarshal(m.Payload, &agent) != nil {
			tb.Fatalf("gatekey-admin could not decode %s", m.Payload)
		}
		if out.IsStderr {
			stderr += out.Output
		} else {
			stdout += out.Output
		}
		if out.Done {
			if out.ExitCode == nil || agent.ExitCode == nil || *agent.ExitCode != *out.ExitCode {
				tb.Fatalf("done without an exit code in both spellings: %s", m.Payload)
			}
			return stdout, stderr, *out.ExitCode
		}
	}
}

// TestAdminSessionContract replays gatekey-admin's "session exec" and
// "session connect" against an agent that runs commands as GateKey's
// agent does.
func TestAdminSessionContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, tok := f.gateway(t, map[string]any{"name": "edge-shell"})
		idle, _ := f.gateway(t, map[string]any{"name": "edge-shell-idle"})
		d := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "edge-shell-globex", "hostname": "vpn-b.example.com"}), http.StatusCreated)
		foreignGW := d["id"].(string)
		startAgent(t, e, tok, "gateway", "edge-shell", "sleep")
		startAgent(t, e, d["token"].(string), "gateway", "edge-shell-globex")

		s, agents := dialSession(t, e, f.admin)
		if len(agents) != 1 || agents[0].AgentID != gw || agents[0].NodeName != "edge-shell" {
			t.Fatalf("agent_list = %+v, want only acme's agent", agents)
		}

		// Commands before choosing an agent, and agents not reachable.
		s.send(t, "command", map[string]string{"command": "echo hi"})
		if msg := errorOf(t, s.next(t)); msg != "No agent selected" {
			t.Fatalf("error = %q", msg)
		}
		s.send(t, "connect_agent", map[string]string{"agentId": foreignGW})
		if msg := errorOf(t, s.next(t)); msg != "Agent not found or disconnected" {
			t.Fatalf("another group's agent: %q", msg)
		}
		s.send(t, "command", map[string]string{"command": "echo hi", "agentId": foreignGW})
		if msg := errorOf(t, s.next(t)); msg != "Agent not found or disconnected" {
			t.Fatalf("a command for another group's agent: %q", msg)
		}
		s.send(t, "connect_agent", map[string]string{"agentId": idle})
		if msg := errorOf(t, s.next(t)); !strings.Contains(msg, "not connected to this server") {
			t.Fatalf("an agent not connected: %q", msg)
		}

		s.send(t, "connect_agent", map[string]string{"agentId": gw})
		if m := s.next(t); m.Type != "agent_connected" || !strings.Contains(string(m.Payload), gw) {
			t.Fatalf("got %s %s, want agent_connected", m.Type, m.Payload)
		}
		stdout, stderr, exit := s.runCommand(t, "echo hello; echo oops >&2; exit 3")
		if stdout != "hello\n" || stderr != "oops\n" || exit != 3 {
			t.Fatalf("stdout %q stderr %q exit %d", stdout, stderr, exit)
		}
		// Commands sent back to back run one after the other: the agent
		// would cancel a running one.
		s.send(t, "command", map[string]string{"command": "sleep 1; echo first"})
		s.send(t, "command", map[string]string{"command": "echo second"})
		if stdout, _, exit = s.output(t); stdout != "first\n" || exit != 0 {
			t.Fatalf("the first of two commands: %q exit %d", stdout, exit)
		}
		if stdout, _, exit = s.output(t); stdout != "second\n" || exit != 0 {
			t.Fatalf("the second of two commands: %q exit %d", stdout, exit)
		}
		s.send(t, "command", map[string]string{"command": "  "})
		if msg := errorOf(t, s.next(t)); msg != "the command is empty" {
			t.Fatalf("empty command: %q", msg)
		}
		f.audited(t, "remote-session.open", "gateway:"+gw)
		f.audited(t, "remote-session.command", "gateway:"+gw)

		// After disconnect, commands need an agent again.
		s.send(t, "disconnect", nil)
		s.send(t, "command", map[string]string{"command": "echo hi"})
		if msg := errorOf(t, s.next(t)); msg != "No agent selected" {
			t.Fatalf("after disconnect: %q", msg)
		}
	})
}

// TestAdminSessionRefusals: only administrators open a session, and a
// browser page of another site cannot open one with the session cookie.
func TestAdminSessionRefusals(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	f := newGWFixture(t, e)
	url := "ws" + strings.TrimPrefix(e.URL, "http") + "/ws/admin/session"
	cases := []struct {
		name   string
		header http.Header
		status int
	}{
		{"401/no credential", http.Header{}, http.StatusUnauthorized},
		{"403/user", http.Header{"Authorization": {"Bearer " + f.user}}, http.StatusForbidden},
		{"403/foreign origin", http.Header{"Authorization": {"Bearer " + f.admin}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: tc.header})
			if err == nil {
				ws.CloseNow()
				t.Fatal("the session opened")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("answer %v (%v), want %d", resp, err, tc.status)
			}
		})
	}
}
