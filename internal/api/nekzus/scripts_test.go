package nekzus_test

import (
	"net/http"
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

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
}

// Scripts: register files of the scripts directory, run them with typed
// parameters passed literally as environment variables, record each run;
// refuse files outside the directory, unknown or missing parameters, and
// anyone but a SUPER_ADMIN.
func TestScriptsAPI(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			outside := t.TempDir()
			writeScript(t, dir, "hello.sh", `echo "hello $WHO"; [ "$DRY_RUN" = true ] && echo "dry run"; exit 0`, 0o700)
			writeScript(t, dir, "fail.sh", `echo "broken" >&2; exit 7`, 0o700)
			writeScript(t, dir, "slow.sh", `sleep 30`, 0o700)
			writeScript(t, dir, "chatty.sh", `head -c 5000000 /dev/zero | tr '\0' x`, 0o700)
			writeScript(t, dir, "notexec.sh", `echo x`, 0o600)
			if err := os.Mkdir(filepath.Join(dir, "more"), 0o700); err != nil {
				t.Fatal(err)
			}
			writeScript(t, filepath.Join(dir, "more"), "spare.sh", `echo spare`, 0o700)
			writeScript(t, outside, "evil.sh", `echo pwned`, 0o700)
			if err := os.Symlink(filepath.Join(outside, "evil.sh"), filepath.Join(dir, "link.sh")); err != nil {
				t.Fatal(err)
			}
			e := servertest.StartWith(t, kind, func(c *config.Config) { c.ScriptsDir = dir })
			e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
			admin, _ := e.Login(t, "admin", "password1")
			as := servertest.Master()

			register := func(name, path string, extra map[string]any) *servertest.Response {
				body := map[string]any{"name": name, "scriptPath": path, "category": "Maintenance", "timeoutSeconds": 10}
				for k, v := range extra {
					body[k] = v
				}
				return e.Do(t, "POST", "/api/v1/scripts", body, as...)
			}
			r := register("Say Hello", "hello.sh", map[string]any{"parameters": []map[string]any{
				{"name": "WHO", "type": "string", "required": true, "default": "world"},
				{"name": "TOKEN", "type": "password"},
				{"name": "COUNT", "type": "number"},
			}})
			if r.Status != http.StatusCreated || r.JSON["id"] != "say-hello" || r.JSON["scriptType"] != "shell" || r.JSON["category"] != "maintenance" {
				t.Fatalf("register: %d %s", r.Status, r.Raw)
			}
			for _, c := range []struct {
				name, path string
				timeout    int
			}{{"Fail", "fail.sh", 10}, {"Slow", "slow.sh", 1}, {"Chatty", dir + "/chatty.sh", 30}} {
				if r := register(c.name, c.path, map[string]any{"timeoutSeconds": c.timeout}); r.Status != http.StatusCreated {
					t.Fatalf("register %s: %d %s", c.name, r.Status, r.Raw)
				}
			}
			refused := []struct {
				name, method, path string
				hdr                []string
				body               any
				status             int
				code               string
			}{
				{"outside the directory", "POST", "/api/v1/scripts", as, map[string]any{"name": "Evil", "scriptPath": filepath.Join(outside, "evil.sh")}, 400, "BAD_REQUEST"},
				{"dot-dot escape", "POST", "/api/v1/scripts", as, map[string]any{"name": "Evil", "scriptPath": "../" + filepath.Base(outside) + "/evil.sh"}, 400, "BAD_REQUEST"},
				{"symlink escape", "POST", "/api/v1/scripts", as, map[string]any{"name": "Evil", "scriptPath": "link.sh"}, 400, "BAD_REQUEST"},
				{"not executable", "POST", "/api/v1/scripts", as, map[string]any{"name": "X", "scriptPath": "notexec.sh"}, 400, "BAD_REQUEST"},
				{"missing file", "POST", "/api/v1/scripts", as, map[string]any{"name": "X", "scriptPath": "nope.sh"}, 400, "BAD_REQUEST"},
				{"reserved parameter", "POST", "/api/v1/scripts", as, map[string]any{"name": "X", "scriptPath": "hello.sh", "parameters": []map[string]any{{"name": "PATH"}}}, 400, "BAD_REQUEST"},
				{"name taken", "POST", "/api/v1/scripts", as, map[string]any{"name": "say hello", "scriptPath": "hello.sh"}, 409, "CONFLICT"},
				{"timeout too long", "POST", "/api/v1/scripts", as, map[string]any{"name": "X", "scriptPath": "hello.sh", "timeoutSeconds": 3601}, 400, "BAD_REQUEST"},
				{"group admin lists", "GET", "/api/v1/scripts", servertest.Bearer(admin), nil, 403, "FORBIDDEN"},
				{"group admin runs", "POST", "/api/v1/scripts/say-hello/execute", servertest.Bearer(admin), nil, 403, "FORBIDDEN"},
				{"unknown script", "POST", "/api/v1/scripts/nope/execute", as, nil, 404, "SCRIPT_NOT_FOUND"},
				{"unknown parameter", "POST", "/api/v1/scripts/say-hello/execute", as, map[string]any{"parameters": map[string]string{"LD_PRELOAD": "/x.so"}}, 400, "BAD_REQUEST"},
				{"not a number", "POST", "/api/v1/scripts/say-hello/execute", as, map[string]any{"parameters": map[string]string{"COUNT": "many"}}, 400, "BAD_REQUEST"},
				{"limit too big", "GET", "/api/v1/executions?limit=101", as, nil, 400, "BAD_REQUEST"},
				{"unknown execution", "GET", "/api/v1/executions/exec_0000", as, nil, 404, "EXECUTION_NOT_FOUND"},
			}
			for _, c := range refused {
				if r := e.Do(t, c.method, c.path, c.body, c.hdr...); r.Status != c.status || r.ErrorCode() != c.code {
					t.Fatalf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
				}
			}

			run := func(id string, body any) map[string]any {
				t.Helper()
				r := e.Do(t, "POST", "/api/v1/scripts/"+id+"/execute", body, as...)
				if r.Status != 200 {
					t.Fatalf("run %s: %d %s", id, r.Status, r.Raw)
				}
				return r.JSON
			}
			hostile := `it's "$(touch /tmp/pwned)" ` + "`id`; rm -rf /"
			x := run("say-hello", map[string]any{"parameters": map[string]string{"WHO": hostile, "TOKEN": "s3cret-token"}})
			if x["status"] != "completed" || x["exitCode"] != float64(0) || x["output"] != "hello "+hostile+"\n" || x["isDryRun"] != false ||
				x["triggeredBy"] != "master" || x["startedAt"] == nil || x["endedAt"] == nil {
				t.Fatalf("hello: %v", x)
			}
			if p := x["parameters"].(map[string]any); p["TOKEN"] != "********" || p["WHO"] != hostile {
				t.Fatalf("recorded parameters %v: the password must be masked", p)
			}
			if d := run("say-hello", map[string]any{"dryRun": true}); d["output"] != "hello world\ndry run\n" || d["isDryRun"] != true {
				t.Fatalf("dry run: %v", d)
			}
			r = e.Do(t, "POST", "/api/v1/scripts/say-hello/dry-run", nil, as...)
			if r.Status != 200 || r.JSON["output"] != "hello world\ndry run\n" {
				t.Fatalf("dry-run route: %d %s", r.Status, r.Raw)
			}
			if f := run("fail", nil); f["status"] != "failed" || f["exitCode"] != float64(7) || f["output"] != "broken\n" {
				t.Fatalf("fail: %v", f)
			}
			began := time.Now()
			if s := run("slow", nil); s["status"] != "timeout" || time.Since(began) > 20*time.Second {
				t.Fatalf("slow: %v after %v", s, time.Since(began))
			}
			if c := run("chatty", nil); c["status"] != "completed" || c["truncated"] != true || len(c["output"].(string)) != 1<<20 {
				t.Fatalf("chatty: %v, truncated %v, %d bytes", c["status"], c["truncated"], len(c["output"].(string)))
			}

			r = e.Do(t, "POST", "/api/v1/scripts/say-hello/execute?async=true", nil, as...)
			if r.Status != http.StatusAccepted || r.JSON["pollUrl"] == nil {
				t.Fatalf("async: %d %s", r.Status, r.Raw)
			}
			poll := r.JSON["pollUrl"].(string)
			servertest.Eventually(t, 10*time.Second, func() bool {
				return e.Do(t, "GET", poll, nil, as...).JSON["status"] == "completed"
			}, "the asynchronous run did not complete")

			r = e.Do(t, "GET", "/api/v1/executions?scriptId=say-hello&limit=2", nil, as...)
			if r.Status != 200 || r.JSON["count"] != float64(2) {
				t.Fatalf("executions: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/executions?status=timeout", nil, as...); r.JSON["count"] != float64(1) {
				t.Fatalf("timeout filter: %v executions", r.JSON["count"])
			}
			// Only the unregistered executable file: not the registered ones,
			// the non-executable one, or the link leading out.
			r = e.Do(t, "GET", "/api/v1/scripts/available", nil, as...)
			if r.Status != 200 || r.JSON["count"] != float64(1) || !strings.Contains(string(r.Raw), `"path":"more/spare.sh"`) {
				t.Fatalf("available: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/scripts?category=maintenance", nil, as...); r.JSON["count"] != float64(4) {
				t.Fatalf("category: %s", r.Raw)
			}
			if r := e.Do(t, "PUT", "/api/v1/scripts/say-hello", map[string]any{"description": "greets"}, as...); r.Status != 200 || r.JSON["description"] != "greets" {
				t.Fatalf("update: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "DELETE", "/api/v1/scripts/say-hello", nil, as...); r.Status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.Status, r.Raw)
			}
			if r := e.Do(t, "GET", "/api/v1/executions?scriptId=say-hello", nil, as...); r.JSON["count"] == float64(0) {
				t.Fatal("a deleted script's history is gone")
			}
			if _, err := os.Stat("/tmp/pwned"); err == nil {
				t.Fatal("a parameter was run as a command")
			}
		})
	}
}

// With no scripts directory, scripts are off: 503, nothing registered.
func TestScriptsOff(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, config.SQLite)
	r := e.Do(t, "POST", "/api/v1/scripts", map[string]any{"name": "x", "scriptPath": "x.sh"}, servertest.Master()...)
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "SCRIPTS_DISABLED" {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
}
