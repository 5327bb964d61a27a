package automation

import (
	"context"
	"encoding/json"
	"sync"
	"unicode/utf8"

	"netkeep/internal/event"
)

// TopicExecution is the event topic of running executions: ActionOutput
// carries a piece of output (OutputChunk), ActionEnded the execution's end
// (ExecutionEnded). Both are server-wide (group 0): only principals that
// may read scripts receive them.
const (
	TopicExecution = "script_execution"
	ActionOutput   = "output"
	ActionEnded    = "ended"
)

// MaxChunk bounds the output of one event, so that it fits a PostgreSQL
// NOTIFY payload and reaches the other replicas' sockets too.
const MaxChunk = 2048

// OutputChunk is a piece of a running execution's output, in order: Seq
// counts from 1 per execution.
type OutputChunk struct {
	ExecutionID string `json:"executionId"`
	ScriptID    string `json:"scriptId"`
	Seq         int    `json:"seq"`
	Output      string `json:"output"`
}

// ExecutionEnded is an execution's end.
type ExecutionEnded struct {
	ExecutionID string `json:"executionId"`
	ScriptID    string `json:"scriptId"`
	Status      Status `json:"status"`
	ExitCode    *int   `json:"exitCode"`
	Truncated   bool   `json:"truncated"`
}

// stream publishes one execution's output as it is produced. It keeps an
// incomplete UTF-8 sequence at a chunk's end for the next, so every chunk
// is valid text.
type stream struct {
	s    *Service
	e    *Execution
	mu   sync.Mutex
	seq  int
	tail []byte
}

func (s *Service) newStream(e *Execution) *stream { return &stream{s: s, e: e} }

// output is the runner's Output callback.
func (st *stream) output(p []byte) {
	if st.s.bus == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	buf := append(st.tail, p...)
	keep := partialRune(buf)
	body := buf[:len(buf)-keep]
	st.tail = append([]byte(nil), buf[len(buf)-keep:]...)
	for len(body) > 0 {
		n := min(len(body), MaxChunk)
		for n < len(body) && n > MaxChunk-utf8.UTFMax && !utf8.RuneStart(body[n]) {
			n-- // cut between characters
		}
		st.seq++
		st.publish(ActionOutput, OutputChunk{ExecutionID: st.e.ID, ScriptID: st.e.ScriptID, Seq: st.seq, Output: string(body[:n])})
		body = body[n:]
	}
}

// partialRune is the length of an incomplete UTF-8 sequence ending b.
func partialRune(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return 0
			}
			return len(b) - i
		}
	}
	return 0
}

// ended publishes what is left of the output and the execution's end.
func (st *stream) ended(e *Execution) {
	if st.s.bus == nil {
		return
	}
	st.mu.Lock()
	if len(st.tail) > 0 {
		st.seq++
		st.publish(ActionOutput, OutputChunk{ExecutionID: e.ID, ScriptID: e.ScriptID, Seq: st.seq, Output: string(st.tail)})
		st.tail = nil
	}
	st.mu.Unlock()
	st.publish(ActionEnded, ExecutionEnded{ExecutionID: e.ID, ScriptID: e.ScriptID, Status: e.Status, ExitCode: e.ExitCode, Truncated: e.Truncated})
}

// publish sends one event; a failure loses a piece of the live view only
// (the execution keeps the whole output), so it is logged.
func (st *stream) publish(action string, data any) {
	b, err := json.Marshal(data)
	if err == nil {
		err = st.s.bus.Publish(context.Background(), event.Event{Topic: TopicExecution, Action: action, ID: st.e.ID, Data: b})
	}
	if err != nil {
		st.s.log.Warn("streaming script output", "execution", st.e.ID, "error", err)
	}
}
