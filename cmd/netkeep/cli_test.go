package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"netkeep/internal/fault"
	"netkeep/internal/secret"
	"netkeep/internal/store/storetest"
)

// TestStartupFailures: every unusable configuration makes each command exit
// non-zero with one "netkeep: ..." line on stderr, no stack trace, and no
// secret echoed back.
func TestStartupFailures(t *testing.T) {
	const shortKey = "short-master-key-value"
	regularFile := func(tb testing.TB) string {
		tb.Helper()
		p := filepath.Join(tb.TempDir(), "not-a-dir")
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			tb.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		args    []string
		env     []string
		dataDir func(tb testing.TB) string // nil: an empty temp dir
		want    string                     // in the stderr line
		secret  string                     // must not appear on stderr
		skip    string                     // non-empty: why this case cannot run here
		only    string                     // run for this command only ("" = all)
	}{
		{name: "database-url/mysql", args: []string{"--database-url", "mysql://x"}, want: "database-url"},
		{name: "database-url/sqlite without a path", args: []string{"--database-url", "sqlite:"}, want: "database-url"},
		{name: "database-url/unreachable postgres", args: []string{"--database-url", "postgres://nobody@127.0.0.1:1/x"}, want: "PostgreSQL"},
		{name: "database-url/unreachable postgres with password", args: []string{"--database-url", "postgres://nobody:hunter2-secret@127.0.0.1:1/x"},
			want: "PostgreSQL", secret: "hunter2-secret"},
		{name: "data-dir/regular file", dataDir: regularFile, want: "not a directory"},
		{name: "data-dir/below a regular file", dataDir: func(tb testing.TB) string { return filepath.Join(regularFile(tb), "sub") }, want: "not a directory"},
		{name: "data-dir/unwritable", dataDir: func(tb testing.TB) string {
			d := filepath.Join(tb.TempDir(), "locked")
			if err := os.Mkdir(d, 0o000); err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { os.Chmod(d, 0o700) })
			return d
		}, want: "data-dir", skip: skipAsRoot()},
		{name: "data-dir/malformed secret.key", dataDir: func(tb testing.TB) string {
			d := tb.TempDir()
			if err := os.WriteFile(filepath.Join(d, secret.FileName), []byte("too short\n"), 0o600); err != nil {
				tb.Fatal(err)
			}
			return d
		}, want: "malformed"},
		{name: "master-key/short flag", args: []string{"--master-key", shortKey}, want: "master-key", secret: shortKey},
		{name: "master-key/short env", env: []string{"NETKEEP_MASTER_KEY=" + shortKey}, want: "master-key", secret: shortKey},
		{name: "master-key/short _FILE", env: []string{"NETKEEP_MASTER_KEY_FILE=" + writeTemp(t, shortKey+"\n")}, want: "master-key", secret: shortKey},
		{name: "master-key/missing _FILE", env: []string{"NETKEEP_MASTER_KEY_FILE=/nonexistent/master.key"}, want: "NETKEEP_MASTER_KEY_FILE"},
		{name: "secret-key/short env", env: []string{"NETKEEP_SECRET_KEY=" + shortKey}, want: "NETKEEP_SECRET_KEY", secret: shortKey},
		{name: "log-level/unknown", args: []string{"--log-level", "chatty"}, want: "log-level"},
		{name: "log-format/unknown", args: []string{"--log-format", "xml"}, want: "log-format"},
		{name: "tls/cert without key", args: []string{"--tls-cert", "cert.pem"}, want: "tls-key"},
		{name: "max-body-bytes/zero", args: []string{"--max-body-bytes", "0"}, want: "max-body-bytes"},
		{name: "env/not a number", env: []string{"NETKEEP_MAX_BODY_BYTES=lots"}, want: "NETKEEP_MAX_BODY_BYTES"},
		{name: "env/empty number", env: []string{"NETKEEP_MAX_BODY_BYTES="}, want: "NETKEEP_MAX_BODY_BYTES is set but empty"},
		{name: "env/empty duration", env: []string{"NETKEEP_CLIENT_CONFIG_TTL="}, want: "NETKEEP_CLIENT_CONFIG_TTL is set but empty"},
		{name: "env/empty log level", env: []string{"NETKEEP_LOG_LEVEL="}, want: "log-level"},
		{name: "env/empty _FILE", env: []string{"NETKEEP_MASTER_KEY_FILE="}, want: "NETKEEP_MASTER_KEY_FILE is set but empty"},
		{name: "config/missing file", args: []string{"--config", "/nonexistent/netkeep.yaml"}, want: "config file"},
		{name: "listen/address in use", args: []string{"--listen", busyAddr(t)}, want: "listen", only: "serve"},
		{name: "tls/missing files", args: []string{"--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"},
			want: "cert.pem", only: "serve"},
	}
	commands := []struct {
		name string
		args []string
	}{
		{"serve", []string{"serve", "--listen", "127.0.0.1:0"}},
		{"migrate", []string{"migrate"}},
		{"admin create", []string{"admin", "create", "--username", "alice", "--password", "long enough password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			for _, c := range commands {
				if tt.only != "" && tt.only != c.name {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					dataDir := t.TempDir()
					if tt.dataDir != nil {
						dataDir = tt.dataDir(t)
					}
					args := append(append(append([]string{}, c.args...), "--data-dir", dataDir), tt.args...)
					r := runCLI(t, "", cleanEnv(tt.env...), args...)
					if r.code == 0 {
						t.Fatalf("exit code 0, want non-zero\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
					}
					assertOneErrorLine(t, r.stderr, tt.want)
					if tt.secret != "" && strings.Contains(r.stderr+r.stdout, tt.secret) {
						t.Errorf("output reveals the secret %q:\n%s", tt.secret, r.stderr)
					}
				})
			}
		})
	}
}

// busyAddr returns a loopback address something already listens on, until
// test end.
func busyAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

func skipAsRoot() string {
	if os.Geteuid() == 0 {
		return "running as root: permissions cannot make a directory unusable"
	}
	return ""
}

// writeTemp writes content to a new file and returns its path.
func writeTemp(tb testing.TB, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "value")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestAdminCreate runs `netkeep admin create` in sequence against one
// database: a refused create must leave the existing users as they were.
func TestAdminCreate(t *testing.T) {
	const alicePassword, bobPassword = "alice first password", "bob from stdin"
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dataDir := t.TempDir()
			db := newTestDB(t, kind)
			steps := []struct {
				name, stdin string
				args        []string
				wantOK      bool
				want        string // in stdout on success, in the one stderr line on failure
			}{
				{name: "first admin", args: []string{"--username", "alice", "--password", alicePassword, "--email", "alice@example.com"},
					wantOK: true, want: `created SUPER_ADMIN "alice"`},
				{name: "same username", args: []string{"--username", "alice", "--password", "another password", "--email", "other@example.com"},
					want: `user "alice" already exists`},
				{name: "same username other case", args: []string{"--username", "ALICE", "--password", "another password"},
					want: "already exists"},
				{name: "email taken", args: []string{"--username", "mallory", "--password", "another password", "--email", "ALICE@example.com"},
					want: "already exists"},
				{name: "password from stdin", stdin: bobPassword + "\r\n", args: []string{"--username", "bob"},
					wantOK: true, want: `created SUPER_ADMIN "bob"`},
				{name: "no password anywhere", args: []string{"--username", "carol"}, want: "--password"},
				{name: "short password", args: []string{"--username", "carol", "--password", "short"}, want: "password must be at least"},
				{name: "no username", args: []string{"--password", "long enough password"}, want: "--username is required"},
				{name: "username with a space", args: []string{"--username", "car ol", "--password", "long enough password"}, want: "username"},
			}
			for _, s := range steps {
				t.Run(s.name, func(t *testing.T) {
					args := append(append([]string{"admin", "create"}, s.args...), db.flags(dataDir)...)
					r := runCLI(t, s.stdin, nil, args...)
					if s.wantOK {
						if r.code != 0 || !strings.Contains(r.stdout, s.want) {
							t.Fatalf("exit %d, stdout %q, want 0 and %q; stderr:\n%s", r.code, r.stdout, s.want, r.stderr)
						}
						assertNoStackTrace(t, r.stderr)
						return
					}
					if r.code == 0 {
						t.Fatalf("exit code 0, want non-zero; stdout %q", r.stdout)
					}
					assertOneErrorLine(t, r.stderr, s.want)
				})
			}

			st := db.open(t, dataDir)
			assertUser(t, st, "alice", alicePassword, "alice@example.com")
			assertUser(t, st, "bob", bobPassword, "")
			for _, absent := range []string{"mallory", "carol", "car ol"} {
				if _, err := st.Read().UserByLogin(context.Background(), absent); !fault.Is(err, fault.NotFound) {
					t.Errorf("user %q: err %v, want not_found", absent, err)
				}
			}
		})
	}
}

// TestMigrateTwice: migrate applies everything, and a second run is a no-op
// at the same version.
func TestMigrateTwice(t *testing.T) {
	version := regexp.MustCompile(`^database at schema version (\d+)\n$`)
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dataDir := t.TempDir()
			db := newTestDB(t, kind)
			var versions []string
			for run := 1; run <= 2; run++ {
				r := runCLI(t, "", nil, append([]string{"migrate"}, db.flags(dataDir)...)...)
				m := version.FindStringSubmatch(r.stdout)
				if r.code != 0 || m == nil {
					t.Fatalf("migrate run %d: exit %d, stdout %q; stderr:\n%s", run, r.code, r.stdout, r.stderr)
				}
				assertNoStackTrace(t, r.stderr)
				versions = append(versions, m[1])
			}
			if versions[0] != versions[1] || versions[0] == "0" {
				t.Errorf("schema versions %v, want the same non-zero version twice", versions)
			}
			current, err := db.open(t, dataDir).SchemaCurrent(context.Background())
			if err != nil || !current {
				t.Errorf("SchemaCurrent = %v, %v; want true", current, err)
			}
		})
	}
}

// TestHelp: help exits 0 without touching the data dir, and each command's
// help lists all of its flags with their environment variables.
func TestHelp(t *testing.T) {
	serverFlags := []string{"listen", "data-dir", "database-url", "log-level", "log-format", "tls-cert", "tls-key", "master-key",
		"max-body-bytes", "shutdown-timeout", "config"}
	tests := []struct {
		name  string
		args  []string
		flags []string // each must be listed with its NETKEEP_ variable
		words []string // must appear
	}{
		{name: "netkeep --help", args: []string{"--help"}, words: []string{"serve", "migrate", "admin create", "version", "--help", "NETKEEP_"}},
		{name: "netkeep -h", args: []string{"-h"}, words: []string{"serve", "migrate", "admin create"}},
		{name: "netkeep help", args: []string{"help"}, words: []string{"serve", "migrate", "admin create"}},
		{name: "serve --help", args: []string{"serve", "--help"}, flags: serverFlags},
		{name: "serve -h", args: []string{"serve", "-h"}, flags: serverFlags},
		{name: "migrate --help", args: []string{"migrate", "--help"}, flags: serverFlags},
		{name: "admin create --help", args: []string{"admin", "create", "--help"}, flags: append([]string{"username", "password", "email"}, serverFlags...)},
		{name: "version", args: []string{"version"}, words: []string{"netkeep "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "untouched")
			r := runCLI(t, "", cleanEnv("NETKEEP_DATA_DIR="+dataDir), tt.args...)
			out := r.stdout + r.stderr
			if r.code != 0 {
				t.Fatalf("exit code %d, want 0; output:\n%s", r.code, out)
			}
			assertNoStackTrace(t, out)
			for _, f := range tt.flags {
				line := regexp.MustCompile(`(?m)^\s+--?` + regexp.QuoteMeta(f) + `\b`)
				if !line.MatchString(out) {
					t.Errorf("help does not list --%s:\n%s", f, out)
				}
				if env := "NETKEEP_" + strings.ToUpper(strings.ReplaceAll(f, "-", "_")); !strings.Contains(out, env) && f != "username" && f != "password" && f != "email" {
					t.Errorf("help does not name %s", env)
				}
			}
			for _, w := range tt.words {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
				t.Errorf("help created the data dir (stat err %v)", err)
			}
		})
	}
}

// TestUsageErrors: no command or an unknown one is a usage error.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // on stderr
	}{
		{"no command", nil, 2, "Usage:"},
		{"unknown command", []string{"frobnicate"}, 1, `netkeep: unknown command "frobnicate"`},
		{"admin without create", []string{"admin"}, 1, "netkeep: usage: netkeep admin create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", nil, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d", r.code, tt.wantCode)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			assertNoStackTrace(t, r.stderr)
		})
	}
}
