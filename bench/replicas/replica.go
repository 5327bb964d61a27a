package main

import (
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// replica is one `netkeep serve` process; it can be stopped and started
// again on the same addresses, database and data directory.
type replica struct {
	name     string
	binary   string
	env      []string
	httpAddr string // 127.0.0.1:port
	radius   string // 127.0.0.1:port
	dataDir  string
	logPath  string
	dbURL    string
	cmd      *exec.Cmd
	exited   chan struct{}
	exitCode int
}

func (r *replica) base() string { return "http://" + r.httpAddr }

// start launches the process; its output is appended to logPath.
func (r *replica) start() error {
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	r.cmd = exec.Command(r.binary, "serve", "--listen", r.httpAddr, "--radius-listen", r.radius,
		"--radius-acct-listen", "", "--data-dir", r.dataDir, "--database-url", r.dbURL)
	r.cmd.Env = r.env
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", r.name, err)
	}
	r.exited = make(chan struct{})
	go func() {
		_ = r.cmd.Wait()
		r.exitCode = r.cmd.ProcessState.ExitCode()
		logf.Close()
		close(r.exited)
	}()
	return nil
}

// stop sends SIGTERM and waits for the exit; it returns the exit code.
func (r *replica) stop(timeout time.Duration) (int, error) {
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, err
	}
	select {
	case <-r.exited:
		return r.exitCode, nil
	case <-time.After(timeout):
		_ = r.cmd.Process.Kill()
		<-r.exited
		return r.exitCode, fmt.Errorf("%s still running %v after SIGTERM; killed", r.name, timeout)
	}
}

// kill ends the process if it runs (cleanup on every exit path).
func (r *replica) kill() {
	if r.cmd == nil || r.exited == nil {
		return
	}
	select {
	case <-r.exited:
	default:
		_ = r.cmd.Process.Kill()
		<-r.exited
	}
}

// waitReady polls /readyz until 200, then (when rc is not nil) until the
// RADIUS port accepts station, within timeout.
func (r *replica) waitReady(ctx context.Context, timeout time.Duration, rc *radiusClient, station string) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		res, err := client.Get(r.base() + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: /readyz not 200 within %v (log: %s)", r.name, timeout, r.logPath)
		}
		select {
		case <-r.exited:
			return fmt.Errorf("%s exited with %d (log: %s)", r.name, r.exitCode, r.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	for rc != nil {
		if ok, _ := rc.accepted(r.radius, station, 200*time.Millisecond); ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: RADIUS did not accept %s within %v (log: %s)", r.name, station, timeout, r.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports free for network ("tcp" or
// "udp") at the time of the call, picked at random below the kernel's
// ephemeral range (32768 and up on Linux): a port from that range, free
// now, may be taken a moment later by any process's outgoing socket (the
// load's own RADIUS requests among them) before the replica binds it.
func freePorts(network string, n int) ([]string, error) {
	var out []string
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	for tries := 0; len(out) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("no free %s port found in 20000-32767", network)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+mathrand.IntN(12768))
		if network == "tcp" {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				continue
			}
			closers = append(closers, ln.Close)
		} else {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				continue
			}
			closers = append(closers, pc.Close)
		}
		out = append(out, addr)
	}
	return out, nil
}

// newReplica prepares (does not start) replica name under work.
func newReplica(name, binary, work, dbURL string, env []string, httpAddr, radiusAddr string) (*replica, error) {
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &replica{name: name, binary: binary, env: env, httpAddr: httpAddr, radius: radiusAddr,
		dataDir: dir, logPath: filepath.Join(work, name+".log"), dbURL: dbURL}, nil
}
