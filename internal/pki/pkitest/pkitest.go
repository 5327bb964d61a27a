// Package pkitest runs openssl, the real peer of netkeep's CA, in tests. A
// test that needs openssl fails when it is missing and CI=true (so CI cannot
// pass without the real peer), and skips otherwise.
package pkitest

import (
	"bytes"
	"netkeep/internal/testpeer"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// OpenSSL returns the openssl executable.
func OpenSSL(tb testing.TB) string {
	tb.Helper()
	return testpeer.Command(tb, "openssl", "openssl")
}

// Result is a finished openssl run.
type Result struct {
	OK     bool
	Stdout string
	Stderr string
}

// Output is stdout and stderr together, as a person would read them.
func (r Result) Output() string { return r.Stdout + r.Stderr }

// Run runs openssl with args in dir and returns what it printed; a failing
// exit is reported in Result.OK, not as a test failure.
func Run(tb testing.TB, dir string, args ...string) Result {
	tb.Helper()
	cmd := exec.Command(OpenSSL(tb), args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		tb.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return Result{OK: err == nil, Stdout: stdout.String(), Stderr: stderr.String()}
}

// MustRun is Run that fails the test when openssl fails.
func MustRun(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	r := Run(tb, dir, args...)
	if !r.OK {
		tb.Fatalf("openssl %s failed:\n%s", strings.Join(args, " "), r.Output())
	}
	return r.Stdout
}

// WriteFile writes b to name in dir and returns its path.
func WriteFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// NewCA has openssl create a self-signed ECDSA P-256 CA in dir, as an
// operator importing an existing CA would, and returns the certificate and
// key file names (ca.pem, ca-key.pem).
func NewCA(tb testing.TB, dir, subject string) (certFile, keyFile string) {
	tb.Helper()
	certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	MustRun(tb, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", keyFile, "-out", certFile, "-days", "3650", "-subj", subject,
		"-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return certFile, keyFile
}

// SerialOf returns the serial of a PEM certificate file as
// `openssl x509 -serial` prints it (without "serial=").
func SerialOf(tb testing.TB, dir, certFile string) string {
	tb.Helper()
	out := strings.TrimSpace(MustRun(tb, dir, "x509", "-in", certFile, "-noout", "-serial"))
	s, ok := strings.CutPrefix(out, "serial=")
	if !ok {
		tb.Fatalf("openssl x509 -serial printed %q", out)
	}
	return s
}
