package gatekey_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/server/servertest"
)

// gkOutput is the output payload as GateKey's agent writes it.
type gkOutput struct {
	Output   string `json:"output"`
	IsStderr bool   `json:"isStderr,omitempty"`
	ExitCode *int   `json:"exitCode,omitempty"`
	Done     bool   `json:"done"`
}

// runningAgent is a gateway agent that acts on its channel as GateKey's
// agent does: it answers pings, runs each command with /bin/sh -c (a new
// command cancels the one running), streams stdout and stderr line by
// line as output frames with the command's id, and ends with a done frame
// carrying the exit code. Its commands find only the programs in bin
// (PATH), so which tools a gateway has is the test's to say.
type runningAgent struct {
	ws   *websocket.Conn
	bin  string
	mu   sync.Mutex // one frame at a time, and the running command
	stop context.CancelFunc
}

// startAgent connects an agent with token and serves its channel until
// the test ends; tools are the host programs its PATH offers.
func startAgent(tb testing.TB, e *servertest.Env, token, nodeType, name string, tools ...string) *runningAgent {
	tb.Helper()
	a, m := dialAgent(tb, e, gkChannelAuth{Token: token, NodeType: nodeType, NodeID: name, NodeName: name})
	if r := authReply(tb, m); !r.Success {
		tb.Fatalf("auth_response = %+v", r)
	}
	bin := tb.TempDir()
	for _, t := range tools {
		p, err := exec.LookPath(t)
		if err != nil {
			tb.Fatalf("the test agent needs %s: %v", t, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, t)); err != nil {
			tb.Fatal(err)
		}
	}
	ra := &runningAgent{ws: a.ws, bin: bin}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	go ra.serve(ctx)
	return ra
}

func (a *runningAgent) write(ctx context.Context, typ, id string, payload any) {
	b, _ := json.Marshal(payload)
	m, _ := json.Marshal(gkChannelMessage{Type: typ, ID: id, Payload: b, Timestamp: time.Now()})
	a.mu.Lock()
	defer a.mu.Unlock()
	_ = a.ws.Write(ctx, websocket.MessageText, m)
}

func (a *runningAgent) serve(ctx context.Context) {
	for {
		_, b, err := a.ws.Read(ctx)
		if err != nil {
			return
		}
		var m gkChannelMessage
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case "ping":
			a.write(ctx, "pong", "", nil)
		case "command":
			var c gkChannelCommand
			if json.Unmarshal(m.Payload, &c) == nil {
				go a.run(ctx, m.ID, c.Command)
			}
		}
	}
}

func (a *runningAgent) run(ctx context.Context, id, command string) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	a.mu.Lock()
	if a.stop != nil {
		a.stop() // GateKey's agent cancels the command running
	}
	a.stop = cancel
	a.mu.Unlock()
	defer cancel()
	cmd := exec.CommandContext(cctx, "/bin/sh", "-c", command)
	cmd.Env = []string{"PATH=" + a.bin}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		one := 1
		a.write(ctx, "output", id, gkOutput{Output: err.Error() + "\n", ExitCode: &one, Done: true})
		return
	}
	var wg sync.WaitGroup
	stream := func(r io.Reader, isStderr bool) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			a.write(ctx, "output", id, gkOutput{Output: sc.Text() + "\n", IsStderr: isStderr})
		}
	}
	wg.Add(2)
	go stream(stdout, false)
	go stream(stderr, true)
	wg.Wait()
	code := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		code = 1
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		}
	}
	a.write(ctx, "output", id, gkOutput{ExitCode: &code, Done: true})
}
