package apitest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder captures failures so the helper's own verdicts can be checked.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = format
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestAssertShape(t *testing.T) {
	golden := `{"data": [{"id": "a", "n": 1, "tags": ["x"], "opt": null}], "meta": {"total": 1, "ok": true}}`
	tests := []struct {
		name string
		got  string
		ok   bool
	}{
		{"ok/same", golden, true},
		{"ok/extra fields and more items", `{"data": [{"id": "b", "n": 2, "tags": [], "opt": 3, "x": 1}, {"id": "c", "n": 3, "tags": ["y"], "opt": null}], "meta": {"total": 2, "ok": false}, "more": 1}`, true},
		{"ok/empty list", `{"data": [], "meta": {"total": 0, "ok": true}}`, true},
		{"bad/missing field", `{"data": [{"id": "a", "tags": [], "opt": null}], "meta": {"total": 1, "ok": true}}`, false},
		{"bad/renamed nested field", `{"data": [], "meta": {"count": 1, "ok": true}}`, false},
		{"bad/number as string", `{"data": [{"id": "a", "n": "1", "tags": [], "opt": null}], "meta": {"total": 1, "ok": true}}`, false},
		{"bad/object for array", `{"data": {}, "meta": {"total": 1, "ok": true}}`, false},
		{"bad/not json", `nope`, false},
	}
	file := filepath.Join(t.TempDir(), "example.json")
	if err := os.WriteFile(file, []byte(golden), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			AssertShape(r, []byte(tt.got), file)
			if r.failed == tt.ok {
				t.Errorf("AssertShape(%s) failed=%v, want ok=%v (%s)", tt.got, r.failed, tt.ok, strings.TrimSpace(r.msg))
			}
		})
	}
}
