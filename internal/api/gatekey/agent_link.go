package gatekey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/fault"
)

// agentLink is the command side of one agent channel: netkeep's commands
// to the agent (a session cut, a network tool, a remote session's
// command) and the output the agent sends back for each, routed by the
// message id the agent echoes.
//
// GateKey's agent runs one command at a time: a command that arrives
// while another runs cancels the running one. So the link passes one
// command at a time (slot); the others wait their turn. A session cut
// waits at most cutWait, then goes through anyway: ending a revoked
// client's connection matters more than a diagnostic that it interrupts.
type agentLink struct {
	ws     *websocket.Conn
	slot   chan struct{}
	closed chan struct{} // closed when the channel ends

	mu      sync.Mutex
	pending map[string]*pendingCommand
}

// pendingCommand collects one command's output until the agent says it is
// done. out is buffered; when its reader falls behind, output is dropped
// (dropped is set) rather than stalling the channel's reader.
type pendingCommand struct {
	out     chan agentOutput
	done    chan int // the exit code; buffered, written once
	dropped atomic.Bool
}

// How long a session cut waits for a running command before it goes
// through, and how much output a command may have waiting.
const (
	cutWait        = 5 * time.Second
	pendingBacklog = 1024
)

var (
	errAgentGone = fault.New(fault.Unavailable, "the gateway's agent disconnected")
	errAgentBusy = fault.New(fault.GatewayTimeout, "the gateway's agent is busy with another command")
	errAgentSlow = fault.New(fault.GatewayTimeout, "the gateway's agent did not finish the command in time")
)

func newAgentLink(ws *websocket.Conn) *agentLink {
	return &agentLink{ws: ws, slot: make(chan struct{}, 1), closed: make(chan struct{}),
		pending: map[string]*pendingCommand{}}
}

// close ends every command waiting on the link.
func (l *agentLink) close() { close(l.closed) }

// commandID is a new message id for a command: prefix and 16 hex digits.
func commandID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// exec sends command under id and passes each piece of its output to sink
// until the agent reports the end, whose exit code it returns (-1 when the
// agent sent none). sink runs on the caller's goroutine. preempt, when
// positive, is how long to wait for the running command before sending
// anyway. Errors: unavailable (the channel ended), gateway_timeout (ctx
// ended first).
func (l *agentLink) exec(ctx context.Context, id, command string, preempt time.Duration, sink func(agentOutput)) (int, error) {
	var wait <-chan time.Time
	if preempt > 0 {
		t := time.NewTimer(preempt)
		defer t.Stop()
		wait = t.C
	}
	select {
	case l.slot <- struct{}{}:
		defer func() { <-l.slot }()
	case <-wait:
	case <-ctx.Done():
		return -1, errAgentBusy
	case <-l.closed:
		return -1, errAgentGone
	}
	pc := &pendingCommand{out: make(chan agentOutput, pendingBacklog), done: make(chan int, 1)}
	l.mu.Lock()
	l.pending[id] = pc
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.pending, id)
		l.mu.Unlock()
	}()
	if !agentWrite(l.ws, agentMsgCommand, id, agentCommand{Command: command}) {
		return -1, errAgentGone
	}
	for {
		select {
		case o := <-pc.out:
			sink(o)
		case code := <-pc.done:
			// The agent's output came before its end: what is buffered
			// is all of it.
			for {
				select {
				case o := <-pc.out:
					sink(o)
				default:
					if pc.dropped.Load() {
						sink(agentOutput{Output: "\n[netkeep: output dropped: the reader fell behind]\n", IsStderr: true})
					}
					return code, nil
				}
			}
		case <-ctx.Done():
			return -1, errAgentSlow
		case <-l.closed:
			return -1, errAgentGone
		}
	}
}

// deliver routes one output message of the agent to the command waiting
// for it; it never blocks. It reports whether a command was waiting.
func (l *agentLink) deliver(id string, o agentOutput) bool {
	l.mu.Lock()
	pc := l.pending[id]
	l.mu.Unlock()
	if pc == nil {
		return false
	}
	if o.Output != "" {
		select {
		case pc.out <- agentOutput{Output: o.Output, IsStderr: o.IsStderr}:
		default:
			pc.dropped.Store(true)
		}
	}
	if o.Done {
		code := -1
		if o.ExitCode != nil {
			code = *o.ExitCode
		}
		select {
		case pc.done <- code:
		default: // a second end: the first counts
		}
	}
	return true
}
