package procrun

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	env := []string{"PATH=/usr/bin:/bin", "GREETING=it's $(not run) `either`; rm -rf /"}
	cases := []struct {
		name      string
		body      string
		max       int
		args      []string
		exit      int
		out       string
		truncated bool
	}{
		{"success", `echo "out"; echo "err" >&2`, 1024, nil, 0, "out\nerr\n", false},
		{"non-zero exit", `echo nope; exit 3`, 1024, nil, 3, "nope\n", false},
		{"parameters are data", `printf '%s' "$GREETING"`, 1024, nil, 0, "it's $(not run) `either`; rm -rf /", false},
		{"arguments are words", `printf '[%s]' "$@"`, 1024, []string{"a b", "$(id)", "; ls"}, 0, "[a b][$(id)][; ls]", false},
		{"output capped, drained", `i=0; while [ $i -lt 20000 ]; do echo 0123456789; i=$((i+1)); done; echo done`, 100, nil, 0, strings.Repeat("0123456789\n", 10)[:100], true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(ctx, Request{Path: script(t, tc.body), Args: tc.args, Env: env, Timeout: 10 * time.Second, MaxOutput: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tc.exit || string(res.Output) != tc.out || res.Truncated != tc.truncated || res.TimedOut {
				t.Fatalf("got exit %d truncated %v timedOut %v output %q", res.ExitCode, res.Truncated, res.TimedOut, res.Output)
			}
		})
	}
}

// A timeout kills the script and every process it started.
func TestTimeoutKillsTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	body := `sleep 300 & echo $! > ` + pidFile + `; sleep 300`
	res, err := Run(context.Background(), Request{Path: script(t, body), Env: []string{"PATH=/usr/bin:/bin"},
		Timeout: 300 * time.Millisecond, MaxOutput: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.ExitCode != -1 {
		t.Fatalf("got %+v, want a timeout", res)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		// A killed child lingers as a zombie until reaped by init; its
		// state in /proc says so.
		if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the script's child %d survived the timeout", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNotStarted(t *testing.T) {
	if _, err := Run(context.Background(), Request{Path: "/nonexistent/script", Timeout: time.Second, MaxOutput: 10}); err == nil {
		t.Fatal("a missing program ran")
	}
	if _, err := Run(context.Background(), Request{Path: "/bin/true", MaxOutput: 10}); err == nil {
		t.Fatal("no timeout accepted")
	}
}
