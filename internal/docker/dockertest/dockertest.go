// Package dockertest gives tests a real Docker engine to run containers
// on: it finds the engine (failing, never skipping, when real peers are
// required), builds a tiny image from Debian's busybox-static (no image can
// be pulled here), and runs containers on the host network that are
// removed when the test ends.
//
// The engine is Debian's docker.io started as
//
//	dockerd --storage-driver=vfs --iptables=false --bridge=none
//
// (.ci/run starts it when `docker info` fails).
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"netkeep/internal/testpeer"
)

// Image is the image Busybox builds: /bin/busybox with sh and httpd, and
// /www/index.html.
const Image = "netkeep-test/busybox:1"

// Host is the engine's address for the Moby client (DOCKER_HOST or the
// default socket).
func Host() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// Engine returns the engine's host after checking it answers; without one
// the test fails when real peers are required and skips otherwise.
func Engine(tb testing.TB) string {
	tb.Helper()
	testpeer.Command(tb, "docker", "docker.io")
	cli, err := client.New(client.WithHost(Host()))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		cli.Close()
	}
	if err != nil {
		testpeer.Missing(tb, "no Docker engine at "+Host()+" ("+err.Error()+"); start dockerd --storage-driver=vfs --iptables=false --bridge=none")
	}
	return Host()
}

// imports serialises image imports (two tests importing into one engine
// would race on the tag).
var imports sync.Mutex

// Busybox makes sure Image exists on the shared engine and returns its
// name.
func Busybox(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).Busybox(tb)
}

// Run starts a container of Image on the shared engine (see Daemon.Run).
func Run(tb testing.TB, prefix string, o RunOptions) *Container {
	tb.Helper()
	return Shared(tb).Run(tb, prefix, o)
}

// Daemon is a Docker engine a test drives with the docker CLI: the shared
// one (Shared) or one started for the test alone (Start).
type Daemon struct {
	Host string // the engine's address, as Host() gives it
	PID  int    // dockerd's process id, for a private engine (0: shared)
}

// Shared is the machine's engine, checked as Engine checks it.
func Shared(tb testing.TB) *Daemon {
	tb.Helper()
	return &Daemon{Host: Engine(tb)}
}

// Docker runs the docker CLI against the engine and returns its output,
// trimmed; a failing command fails the test.
func (d *Daemon) Docker(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := d.command(args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (d *Daemon) command(args ...string) *exec.Cmd {
	return exec.Command("docker", append([]string{"-H", d.Host}, args...)...)
}

// State is a container's state as the engine reports it ("running",
// "exited", ...).
func (d *Daemon) State(tb testing.TB, id string) string {
	tb.Helper()
	return d.Docker(tb, "inspect", "-f", "{{.State.Status}}", id)
}

// Busybox makes sure Image exists on the engine and returns its name.
func (d *Daemon) Busybox(tb testing.TB) string {
	tb.Helper()
	imports.Lock()
	defer imports.Unlock()
	if d.command("image", "inspect", Image).Run() == nil {
		return Image
	}
	bin, err := os.ReadFile(testpeer.Command(tb, "busybox", "busybox-static"))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			tb.Fatal(err)
		}
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "www/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin)
	for _, l := range []string{"sh", "httpd", "sleep", "echo"} {
		add(&tar.Header{Name: "bin/" + l, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	page := []byte("<h1>netkeep test app</h1>\n")
	add(&tar.Header{Name: "www/index.html", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(page))}, page)
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	cmd := d.command("import", "-", Image)
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("docker import: %v: %s", err, out)
	}
	return Image
}

// Container is a test container.
type Container struct {
	Name string
	ID   string
	d    *Daemon
}

// RunOptions says how to run a container.
type RunOptions struct {
	Labels map[string]string
	// Ports publishes container ports ("8080" or "127.0.0.1:18080:8080");
	// with none the container uses the host network.
	Ports []string
	Cmd   []string // default: sleep forever
	// Network overrides the host network when no port is published
	// ("none": a container that needs no network).
	Network string
	// Created only creates the container: it is not started.
	Created bool
}

// Run starts (or only creates) a container of Image named with prefix and
// a random suffix; it is removed when the test ends.
func (d *Daemon) Run(tb testing.TB, prefix string, o RunOptions) *Container {
	tb.Helper()
	img := d.Busybox(tb)
	name := prefix + "-" + randomSuffix(tb)
	args := []string{"run", "-d", "--name", name}
	if o.Created {
		args = []string{"create", "--name", name}
	}
	switch {
	case len(o.Ports) > 0:
	case o.Network != "":
		args = append(args, "--network", o.Network)
	default:
		args = append(args, "--network", "host")
	}
	for _, p := range o.Ports {
		args = append(args, "-p", p)
	}
	for k, v := range o.Labels {
		args = append(args, "--label", k+"="+v)
	}
	cmd := o.Cmd
	if len(cmd) == 0 {
		cmd = []string{"sleep", "1000000"}
	}
	args = append(append(args, img), cmd...)
	c := &Container{Name: name, ID: d.Docker(tb, args...), d: d}
	tb.Cleanup(func() { _ = d.command("rm", "-f", c.ID).Run() })
	return c
}

// Stop stops the container (it stays until the test ends).
func (c *Container) Stop(tb testing.TB) {
	tb.Helper()
	c.d.Docker(tb, "stop", "-t", "1", c.ID)
}

// HTTPD is the command of a container serving /www on 127.0.0.1:port
// (with the host network, reachable from the test).
func HTTPD(port int) []string {
	return []string{"httpd", "-f", "-p", fmt.Sprintf("127.0.0.1:%d", port), "-h", "/www"}
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomSuffix(tb testing.TB) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
