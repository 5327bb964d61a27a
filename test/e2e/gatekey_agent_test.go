package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/server/servertest"
)

// agentFrame is a frame of GateKey's gateway agent channel (/ws/agent), as
// docs/gatekey-migration.md and GateKey's public agent describe it.
type agentFrame struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
}

// agentCommand is a command the agent ran and what it printed.
type agentCommand struct {
	command, output string
	err             error
}

// gatekeyAgent plays GateKey's gateway agent on its remote-session
// channel: it authenticates with the gateway's token, answers pings, runs
// each command it is sent with run (the gateway host's shell) and reports
// the output back; the returned channel gets each command run. It stops
// when the test ends.
func gatekeyAgent(t *testing.T, e *servertest.Env, token string, run func(cmd string) (string, error)) <-chan agentCommand {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+"/ws/agent", nil)
	if err != nil {
		cancel()
		t.Fatalf("dialling /ws/agent: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = ws.CloseNow() })
	send := func(typ, id string, payload any) error {
		b, _ := json.Marshal(payload)
		m, _ := json.Marshal(agentFrame{Type: typ, ID: id, Payload: b, Timestamp: time.Now()})
		return ws.Write(ctx, websocket.MessageText, m)
	}
	read := func() (agentFrame, error) {
		var m agentFrame
		_, b, err := ws.Read(ctx)
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		return m, err
	}
	if err := send("auth", "", map[string]string{"token": token, "nodeType": "gateway", "nodeId": "lab-gw", "nodeName": "lab-gw"}); err != nil {
		t.Fatal(err)
	}
	m, err := read()
	var auth struct{ Success bool }
	if err != nil || m.Type != "auth_response" || json.Unmarshal(m.Payload, &auth) != nil || !auth.Success {
		t.Fatalf("the agent channel refused the gateway: %+v %v", m, err)
	}
	commands := make(chan agentCommand, 8)
	go func() {
		for {
			m, err := read()
			if err != nil {
				return
			}
			switch m.Type {
			case "ping":
				_ = send("pong", "", nil)
			case "command":
				var c struct{ Command string }
				_ = json.Unmarshal(m.Payload, &c)
				out, err := run(c.Command)
				code := 0
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					code = exit.ExitCode()
				} else if err != nil {
					code = -1
				}
				_ = send("output", m.ID, map[string]any{"output": out, "isStderr": false, "exitCode": code, "done": true})
				commands <- agentCommand{command: c.Command, output: out, err: err}
			}
		}
	}()
	return commands
}
