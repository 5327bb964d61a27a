package main

// The tests in this package run the real netkeep binary, built once in
// TestMain, as an operator would: flags, environment, signals, exit codes,
// stdout and stderr. This file holds the process helpers; fixtures_test.go
// the HTTP and database fixtures; the tests are in cli_test.go (commands that
// exit), serve_test.go (a running server) and shutdown_test.go (what survives
// a stop).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the netkeep executable under test.
var binary string

// processTimeout bounds every child process so a hung netkeep fails the test
// instead of the whole run.
const processTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "netkeep-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating temp dir:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "netkeep")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building netkeep:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is the test process environment without any NETKEEP_* variable
// (so a developer's settings cannot leak into a case), plus extra.
func cleanEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NETKEEP_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// result is a finished netkeep run.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs netkeep to completion with stdin and env (nil: cleanEnv()).
func runCLI(tb testing.TB, stdin string, env []string, args ...string) result {
	tb.Helper()
	if env == nil {
		env = cleanEnv()
	}
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		tb.Fatalf("netkeep %s: still running after %s; stderr:\n%s", strings.Join(args, " "), processTimeout, stderr.String())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		tb.Fatalf("netkeep %s: %v", strings.Join(args, " "), err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// assertNoStackTrace fails when output looks like a Go panic or crash.
func assertNoStackTrace(tb testing.TB, output string) {
	tb.Helper()
	for _, marker := range []string{"goroutine ", "panic:"} {
		if strings.Contains(output, marker) {
			tb.Errorf("output contains %q (a Go stack trace):\n%s", marker, output)
		}
	}
}

// assertOneErrorLine checks the CLI failure contract: exactly one line on
// stderr, prefixed "netkeep: ", containing want, and no stack trace.
func assertOneErrorLine(tb testing.TB, stderr, want string) {
	tb.Helper()
	assertNoStackTrace(tb, stderr)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 {
		tb.Fatalf("stderr has %d lines, want 1:\n%s", len(lines), stderr)
	}
	if !strings.HasPrefix(lines[0], "netkeep: ") {
		tb.Errorf("stderr %q does not start with %q", lines[0], "netkeep: ")
	}
	if !strings.Contains(lines[0], want) {
		tb.Errorf("stderr %q does not mention %q", lines[0], want)
	}
}

// logBuffer collects a child's stderr and wakes waiters on every write.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // capacity 1: "something was written since you last looked"
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{}, 1)} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serveProc is a running `netkeep serve`.
type serveProc struct {
	cmd  *exec.Cmd
	url  string     // base URL from the "netkeep listening" log line
	log  *logBuffer // everything written to stderr
	done chan struct{}
}

// listeningURL finds the URL in the "netkeep listening" line of either log
// format.
var listeningURL = regexp.MustCompile(`msg="netkeep listening" url=(\S+)|"msg":"netkeep listening","url":"([^"]+)"`)

// startServe starts `netkeep serve --listen 127.0.0.1:0 args...` with env
// (nil: cleanEnv()) and returns once it has logged its URL. The process is
// killed at test end if still running.
func startServe(tb testing.TB, env []string, args ...string) *serveProc {
	tb.Helper()
	if env == nil {
		env = cleanEnv()
	}
	p := &serveProc{log: newLogBuffer(), done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("starting netkeep serve: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.After(processTimeout)
	for {
		if m := listeningURL.FindStringSubmatch(p.log.String()); m != nil {
			p.url = m[1] + m[2]
			return p
		}
		select {
		case <-p.log.changed:
		case <-p.done:
			tb.Fatalf("netkeep serve exited with %d before listening:\n%s", p.cmd.ProcessState.ExitCode(), p.log)
		case <-deadline:
			tb.Fatalf("netkeep serve did not log its URL within %s:\n%s", processTimeout, p.log)
		}
	}
}

// stop sends sig and returns the exit code once the process has exited.
func (p *serveProc) stop(tb testing.TB, sig syscall.Signal) int {
	tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signalling netkeep serve: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(processTimeout):
		tb.Fatalf("netkeep serve still running %s after %v:\n%s", processTimeout, sig, p.log)
	}
	return p.cmd.ProcessState.ExitCode()
}

// poll checks cond every few milliseconds until it holds (true) or timeout
// passes (false).
func poll(timeout time.Duration, cond func() bool) bool {
	return pollEvery(timeout, 20*time.Millisecond, cond)
}

// pollEvery is poll asking every interval.
func pollEvery(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}
