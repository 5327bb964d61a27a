package nekzus_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// A running script's output reaches a SUPER_ADMIN's WebSocket while the
// script still runs (it waits for a file the test writes only after the
// first lines arrived), in order, then its end; a GROUP_ADMIN's socket
// gets none of it.
func TestScriptOutputStreams(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) { testScriptOutputStreams(t, kind) })
	}
}

func testScriptOutputStreams(t *testing.T, kind config.DatabaseKind) {
	dir := t.TempDir()
	gate := filepath.Join(t.TempDir(), "go")
	writeScript(t, dir, "steps.sh", `echo "step 1"; echo "step 2 ünïcode"
while [ ! -e "`+gate+`" ]; do sleep 0.05; done
echo "step 3"; exit 3`, 0o700)
	e := servertest.StartWith(t, kind, func(c *config.Config) { c.ScriptsDir = dir })
	e.CreateUser(t, "root", "password1", identity.SuperAdmin, "default")
	e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
	root, _ := e.Login(t, "root", "password1")
	admin, _ := e.Login(t, "admin", "password1")
	super, group := listen(t, e, root), listen(t, e, admin)
	as := servertest.Bearer(root)
	if r := e.Do(t, "POST", "/api/v1/scripts", map[string]any{"name": "Steps", "scriptPath": "steps.sh", "timeoutSeconds": 30}, as...); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	r := e.Do(t, "POST", "/api/v1/scripts/steps/execute?async=true", map[string]any{}, as...)
	if r.Status != 202 {
		t.Fatalf("execute: %d %s", r.Status, r.Raw)
	}
	execID := r.JSON["executionId"].(string)

	type chunk struct {
		ExecutionID string `json:"executionId"`
		ScriptID    string `json:"scriptId"`
		Seq         int    `json:"seq"`
		Output      string `json:"output"`
	}
	var got strings.Builder
	seq := 0
	read := func(until string) {
		t.Helper()
		for !strings.Contains(got.String(), until) {
			var c chunk
			if err := json.Unmarshal(super.expect(t, "script.output").Data, &c); err != nil {
				t.Fatal(err)
			}
			if c.ExecutionID != execID || c.ScriptID != "steps" || c.Seq != seq+1 {
				t.Fatalf("chunk %+v after seq %d of %s", c, seq, execID)
			}
			seq = c.Seq
			got.WriteString(c.Output)
		}
	}
	read("step 2 ünïcode\n")
	if r := e.Do(t, "GET", "/api/v1/executions/"+execID, nil, as...); r.JSON["status"] != "running" {
		t.Fatalf("the output arrived but the execution is %v", r.JSON["status"])
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	read("step 3\n")
	if got.String() != "step 1\nstep 2 ünïcode\nstep 3\n" {
		t.Fatalf("streamed %q", got.String())
	}
	var end struct {
		ExecutionID string `json:"executionId"`
		Status      string `json:"status"`
		ExitCode    *int   `json:"exitCode"`
	}
	if err := json.Unmarshal(super.expect(t, "script.ended").Data, &end); err != nil || end.ExecutionID != execID ||
		end.Status != "failed" || end.ExitCode == nil || *end.ExitCode != 3 {
		t.Fatalf("end %+v %v", end, err)
	}

	// The group admin's socket saw nothing of it: the next message it
	// gets is its own group's notification.
	if r := e.Do(t, "POST", "/api/v1/webhooks/notify", map[string]any{"type": "custom_event", "data": map[string]any{"n": 1}},
		servertest.Bearer(admin)...); r.Status != 200 {
		t.Fatalf("notify: %d %s", r.Status, r.Raw)
	}
	group.expect(t, "webhook")
	servertest.Eventually(t, 5*time.Second, func() bool {
		r := e.Do(t, "GET", "/api/v1/executions/"+execID, nil, as...)
		return r.JSON["status"] == "failed" && r.JSON["output"] == got.String()
	}, "the execution records the streamed output")
}
