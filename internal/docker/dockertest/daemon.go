package dockertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"netkeep/internal/testpeer"
)

// startWait bounds how long a private engine may take to answer (vfs and
// a loaded machine make it slow).
const startWait = 90 * time.Second

// Start runs a Docker engine of the test's own beside any other on the
// machine, with Image imported, and stops it (removing its containers and
// its files) when the test ends. It is for tests that act on every
// container of an engine (start-all, stop-all) or watch all its events,
// which must not touch, or be disturbed by, other tests' containers.
//
// The engine keeps everything in a new short directory under the system's
// temporary one (unix socket paths are limited to 108 bytes): its
// configuration, its data root, its exec root (and so its own containerd),
// its pid file and its socket; it has no bridge and no iptables rules, so it changes nothing
// on the host's network. Without root or dockerd the test fails when real
// peers are required and skips otherwise; an engine that does not come up
// fails the test with the end of its log.
func Start(tb testing.TB) *Daemon {
	tb.Helper()
	dockerd := testpeer.Command(tb, "dockerd", "docker.io")
	testpeer.Command(tb, "docker", "docker.io")
	if os.Geteuid() != 0 {
		testpeer.Missing(tb, "a private Docker engine needs root")
	}
	dir, err := os.MkdirTemp("", "nkd")
	if err != nil {
		tb.Fatal(err)
	}
	logPath := filepath.Join(dir, "dockerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	// Its own empty configuration: the host's /etc/docker/daemon.json may
	// name hosts or roots that clash with these flags.
	conf := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(conf, []byte("{}\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	d := &Daemon{Host: "unix://" + filepath.Join(dir, "docker.sock")}
	cmd := exec.Command(dockerd,
		"--config-file", conf,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--host", d.Host,
		"--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none",
		"--shutdown-timeout=2")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		tb.Fatalf("starting dockerd: %v", err)
	}
	// exited is closed when dockerd has ended, with waitErr set.
	d.PID = cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); logf.Close(); close(exited) }()
	tb.Cleanup(func() {
		// Containers first: an engine stopping with many running ones may
		// take longer than we wait, and leave them behind.
		if ids, err := d.command("ps", "-aq").Output(); err == nil && len(strings.Fields(string(ids))) > 0 {
			_ = d.command(append([]string{"rm", "-f"}, strings.Fields(string(ids))...)...).Run()
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(startWait):
			_ = cmd.Process.Kill()
			<-exited
		}
		release(tb, dir)
	})
	if err := waitReady(d.Host, exited, &waitErr); err != nil {
		tail, _ := os.ReadFile(logPath)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		tb.Fatalf("the private Docker engine did not come up: %v\n%s", err, tail)
	}
	d.Busybox(tb)
	return d
}

// waitReady pings the engine at host until it answers, it exits, or
// startWait passes.
func waitReady(host string, exited <-chan struct{}, waitErr *error) error {
	cli, err := client.New(client.WithHost(host))
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(startWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("dockerd exited: %w", errors.Join(*waitErr, err))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v: %w", startWait, err)
		}
	}
}

// release removes what is left of a private engine in dir once dockerd has
// ended: processes it started that outlived it (its containerd, container
// shims: their command lines name dir), the mounts it made under dir (its
// data root, bind-mounted onto itself, and network namespaces), and the
// files.
func release(tb testing.TB, dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		line, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(line), dir+"/") {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if info, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		var under []string
		for _, l := range strings.Split(string(info), "\n") {
			if f := strings.Fields(l); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
				under = append(under, f[4])
			}
		}
		for i := len(under) - 1; i >= 0; i-- { // the deepest first
			_ = syscall.Unmount(under[i], syscall.MNT_DETACH)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Logf("removing the private engine's files: %v", err)
	}
}
