package automation

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"netkeep/internal/event"
)

// The stream cuts output into pieces of at most MaxChunk bytes, never
// inside a character, numbers them, and ends with the execution's end.
func TestStreamChunks(t *testing.T) {
	long := strings.Repeat("é", MaxChunk) // 2 bytes each: a cut must fall between them
	tests := []struct {
		name   string
		writes []string
	}{
		{"lines", []string{"one\n", "two\n"}},
		{"a character split across writes", []string{"caf\xc3", "\xa9\n"}},
		{"longer than a chunk", []string{"x" + long}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := event.NewLocal()
			defer bus.Close()
			sub := bus.Subscribe(TopicExecution)
			s := &Service{bus: bus, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			e := &Execution{ID: "exec_1", ScriptID: "s", Status: Completed}
			st := s.newStream(e)
			for _, w := range tt.writes {
				st.output([]byte(w))
			}
			st.ended(e)
			var got strings.Builder
			for seq := 1; ; seq++ {
				ev := <-sub.C()
				if ev.Action == ActionEnded {
					break
				}
				var c OutputChunk
				if err := json.Unmarshal(ev.Data, &c); err != nil || c.Seq != seq || len(c.Output) > MaxChunk || strings.ContainsRune(c.Output, '\uFFFD') {
					t.Fatalf("chunk %d: %+v %v", seq, c, err)
				}
				got.WriteString(c.Output)
			}
			if want := strings.Join(tt.writes, ""); got.String() != want {
				t.Fatalf("streamed %q, want %q", got.String(), want)
			}
		})
	}
}
