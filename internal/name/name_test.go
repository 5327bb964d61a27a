package name_test

import (
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/name"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name, value string
		ok, textOK  bool
	}{
		{"ok/ascii", "Lobby AP 3", true, true},
		{"ok/empty", "", true, true},
		{"ok/unicode letters", "Café Zürich 東京", true, true},
		{"ok/replacement char itself", "a\uFFFDb", true, true},
		{"ok/emoji and joiner", "guest 👩\u200d💻", true, true},
		{"bad/NUL", "ab\x00c", false, false},
		{"bad/escape", "a\x1b[31mred", false, false},
		{"bad/DEL", "a\x7f", false, false},
		{"bad/C1", "a\u0085b", false, false},
		{"text/newline", "line1\nline2", false, true},
		{"text/tab", "a\tb", false, true},
		{"bad/RLO", "admin\u202Egnp.exe", false, false},
		{"bad/LRE", "\u202Ax", false, false},
		{"bad/isolate", "x\u2067y", false, false},
		{"bad/RLM", "x\u200Fy", false, false},
		{"bad/ALM", "x\u061Cy", false, false},
		{"bad/invalid utf8", "a\xffb", false, false},
		{"bad/truncated utf8", "a\xe2\x82", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := name.Check("name", tt.value)
			if (err == nil) != tt.ok {
				t.Errorf("Check(%q) = %v, want ok=%v", tt.value, err, tt.ok)
			}
			if err != nil && !fault.Is(err, fault.Invalid) {
				t.Errorf("Check(%q) code = %v, want invalid", tt.value, fault.CodeOf(err))
			}
			if err := name.CheckText("description", tt.value); (err == nil) != tt.textOK {
				t.Errorf("CheckText(%q) = %v, want ok=%v", tt.value, err, tt.textOK)
			}
		})
	}
}
