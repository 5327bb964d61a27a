// Package procrun runs a program on this host as a child process for a
// bounded time: its own process group (so a timeout kills the program and
// everything it started), arguments and environment given as lists (never
// through a shell), and output captured up to a cap while the rest is
// drained, so a chatty child never blocks.
package procrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Request is one run.
type Request struct {
	Path      string   // the program (absolute)
	Args      []string // its arguments (after the program's name), each one word
	Dir       string   // its working directory
	Env       []string // its whole environment, KEY=value
	Timeout   time.Duration
	MaxOutput int // bytes of stdout and stderr (interleaved) kept
	// Output, when set, receives the output as it is produced (up to
	// MaxOutput), for live streaming; it must not block for long.
	Output func([]byte)
}

// Result is how a run ended.
type Result struct {
	ExitCode  int // -1 when killed or not started
	Output    []byte
	Truncated bool // output beyond MaxOutput was dropped
	TimedOut  bool
	Duration  time.Duration
}

// Run starts r.Path and waits for it, its timeout, or ctx. A program that
// exits non-zero is a Result, not an error; errors are programs that could
// not be started. On timeout or cancellation the whole process group gets
// SIGKILL.
func Run(ctx context.Context, r Request) (*Result, error) {
	if r.Timeout <= 0 {
		return nil, errors.New("procrun: a timeout is required")
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Path, r.Args...)
	cmd.Dir, cmd.Env = r.Dir, r.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid is the process group: the script and its children.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A grandchild that keeps the output pipe open must not hold Wait
	// forever once the group was killed.
	cmd.WaitDelay = time.Second
	out := &capped{max: r.MaxOutput, live: r.Output}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("procrun: starting %s: %w", r.Path, err)
	}
	err := cmd.Wait()
	res := &Result{ExitCode: cmd.ProcessState.ExitCode(), Duration: time.Since(start)}
	res.Output, res.Truncated = out.result()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		res.TimedOut = true
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && !errors.Is(err, exec.ErrWaitDelay) && ctx.Err() == nil {
		return res, fmt.Errorf("procrun: %w", err)
	}
	// After a timeout, make sure nothing of the group survives (a child
	// that ignored its parent's death).
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	return res, nil
}

// capped keeps the first max bytes written to it and counts the rest.
type capped struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped bool
	live    func([]byte)
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - c.buf.Len()
	keep := p
	if len(keep) > room {
		keep, c.dropped = keep[:max(room, 0)], true
	}
	c.buf.Write(keep)
	if c.live != nil && len(keep) > 0 {
		c.live(bytes.Clone(keep))
	}
	return len(p), nil // the rest is drained, never refused
}

func (c *capped) result() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes()), c.dropped
}

var _ io.Writer = (*capped)(nil)
