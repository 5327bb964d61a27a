package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// testDB is the database a test's netkeep processes share: SQLite in the data
// dir (url empty) or a fresh PostgreSQL schema.
type testDB struct {
	kind config.DatabaseKind
	url  string
}

// newTestDB prepares an empty database of kind; PostgreSQL skips the test
// unless NETKEEP_TEST_POSTGRES_URL is set.
func newTestDB(tb testing.TB, kind config.DatabaseKind) testDB {
	tb.Helper()
	if kind == config.SQLite {
		return testDB{kind: kind}
	}
	u, _ := storetest.DSN(tb, kind)
	return testDB{kind: kind, url: u}
}

// flags are the command-line flags selecting dataDir and this database.
func (d testDB) flags(dataDir string) []string {
	f := []string{"--data-dir", dataDir}
	if d.url != "" {
		f = append(f, "--database-url", d.url)
	}
	return f
}

// open opens the database directly, as a second process would.
func (d testDB) open(tb testing.TB, dataDir string) *store.DB {
	tb.Helper()
	dsn := d.url
	if d.kind == config.SQLite {
		dsn = filepath.Join(dataDir, "netkeep.db")
	}
	db, err := store.Open(context.Background(), d.kind, dsn)
	if err != nil {
		tb.Fatalf("opening %s: %v", d.kind, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// do performs method on url with headers and returns the response and body.
func do(tb testing.TB, c *http.Client, method, url string, header http.Header) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, body
}

// waitReady polls /readyz until it answers 200.
func waitReady(tb testing.TB, c *http.Client, base string) {
	tb.Helper()
	ready := poll(30*time.Second, func() bool {
		resp, err := c.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ready {
		tb.Fatalf("%s/readyz did not answer 200 within 30s", base)
	}
}

// envelopeCode checks that body is exactly dialect d's error envelope and
// returns its machine code.
func envelopeCode(tb testing.TB, d api.Dialect, body []byte) string {
	tb.Helper()
	var top map[string]any
	if err := json.Unmarshal(body, &top); err != nil {
		tb.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	if d == api.NetKey {
		// {"success": false, "error": msg, "code": CODE[, "details": {...}]}
		delete(top, "details")
		msg, _ := top["error"].(string)
		code, _ := top["code"].(string)
		if len(top) != 3 || top["success"] != false || msg == "" || code == "" {
			tb.Fatalf("not a NetKey envelope: %s", body)
		}
		return code
	}
	// {"error": {"code": ..., "message": ...[, "details": {...}]}}
	inner, _ := top["error"].(map[string]any)
	if len(top) != 1 || inner == nil {
		tb.Fatalf("not a {\"error\": {...}} envelope: %s", body)
	}
	delete(inner, "details")
	msg, _ := inner["message"].(string)
	code, _ := inner["code"].(string)
	if len(inner) != 2 || msg == "" || code == "" {
		tb.Fatalf("error object is not {code, message}: %s", body)
	}
	return code
}

func TestServe(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dataDir := t.TempDir()
			db := newTestDB(t, kind)
			p := startServe(t, nil, db.flags(dataDir)...)
			waitReady(t, httpClient, p.url)

			t.Run("probes", func(t *testing.T) {
				for _, path := range []string{"/healthz", "/livez", "/readyz"} {
					t.Run(path, func(t *testing.T) {
						resp, body := do(t, httpClient, http.MethodGet, p.url+path, nil)
						if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
							t.Fatalf("GET %s = %d %q, want 200 \"ok\"", path, resp.StatusCode, body)
						}
						if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
							t.Errorf("Content-Type = %q, want text/plain", ct)
						}
					})
				}
			})

			t.Run("headers on every response", func(t *testing.T) {
				for _, path := range []string{"/healthz", "/metrics", "/api/v1/psks/1", "/no/such/route"} {
					t.Run(path, func(t *testing.T) {
						resp, _ := do(t, httpClient, http.MethodGet, p.url+path, nil)
						if v := resp.Header.Get("X-API-Version"); v == "" {
							t.Error("no X-API-Version")
						}
						if id := resp.Header.Get("X-Request-Id"); id == "" {
							t.Error("no X-Request-Id")
						}
					})
				}
				resp, _ := do(t, httpClient, http.MethodGet, p.url+"/livez", http.Header{"X-Request-Id": {"smoke-1"}})
				if id := resp.Header.Get("X-Request-Id"); id != "smoke-1" {
					t.Errorf("caller's X-Request-Id came back as %q, want smoke-1", id)
				}
			})

			t.Run("error envelopes", func(t *testing.T) {
				tests := []struct {
					name, method, path string
					status             int
					dialect            api.Dialect
					code, allow        string
				}{
					{"404/netkey psks", "GET", "/api/v1/psks/42", 404, api.NetKey, "NOT_FOUND", ""},
					{"404/netkey auth", "POST", "/api/auth/nope", 404, api.NetKey, "NOT_FOUND", ""},
					{"404/gatekey admin", "GET", "/api/v1/admin/nope", 404, api.GateKey, "not_found", ""},
					{"404/gatekey pki", "GET", "/api/v1/pki/nope", 404, api.GateKey, "not_found", ""},
					{"404/nekzus", "GET", "/api/v1/devices/nope", 404, api.Nekzus, "NOT_FOUND", ""},
					{"404/own", "GET", "/no/such/route", 404, api.Own, "NOT_FOUND", ""},
					{"405/healthz", "POST", "/healthz", 405, api.Nekzus, "METHOD_NOT_ALLOWED", "GET, HEAD"},
					{"405/metrics", "DELETE", "/metrics", 405, api.Nekzus, "METHOD_NOT_ALLOWED", "GET, HEAD"},
				}
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						resp, body := do(t, httpClient, tt.method, p.url+tt.path, nil)
						if resp.StatusCode != tt.status {
							t.Fatalf("%s %s = %d, want %d; body %s", tt.method, tt.path, resp.StatusCode, tt.status, body)
						}
						if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
							t.Errorf("Content-Type = %q, want application/json", ct)
						}
						if got := resp.Header.Get("Allow"); got != tt.allow {
							t.Errorf("Allow = %q, want %q", got, tt.allow)
						}
						if code := envelopeCode(t, tt.dialect, body); code != tt.code {
							t.Errorf("code = %q, want %q; body %s", code, tt.code, body)
						}
					})
				}
			})

			t.Run("metrics", func(t *testing.T) {
				// Requests above are counted after their responses are
				// flushed, so poll until they show up.
				want := []string{
					`netkeep_http_requests_total{route="GET /healthz",status="200"}`,
					`netkeep_http_requests_total{route="GET /readyz",status="200"}`,
					`netkeep_http_requests_total{route="unmatched",status="404"}`,
					`netkeep_http_requests_total{route="unmatched",status="405"}`,
					`netkeep_http_request_duration_seconds_bucket{route="GET /healthz",le="0.0005"}`,
					`netkeep_http_request_duration_seconds_count{route="GET /livez"}`,
					"go_goroutines ",
					"go_gc_duration_seconds",
					"go_memstats_alloc_bytes ",
				}
				var last string
				complete := poll(10*time.Second, func() bool {
					resp, body := do(t, httpClient, http.MethodGet, p.url+"/metrics", nil)
					if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/plain") {
						t.Fatalf("GET /metrics = %d %q", resp.StatusCode, ct)
					}
					last = string(body)
					for _, w := range want {
						if !strings.Contains(last, w) {
							return false
						}
					}
					return true
				})
				if !complete {
					for _, w := range want {
						if !strings.Contains(last, w) {
							t.Errorf("/metrics lacks %s", w)
						}
					}
					t.Fatalf("last /metrics:\n%s", last)
				}
			})

			t.Run("secret.key mode 0600", func(t *testing.T) {
				st, err := os.Stat(filepath.Join(dataDir, secret.FileName))
				if err != nil {
					t.Fatal(err)
				}
				if mode := st.Mode().Perm(); mode != 0o600 {
					t.Errorf("secret.key mode = %o, want 600", mode)
				}
			})

			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit code after SIGTERM = %d, want 0; log:\n%s", code, p.log)
			}
			assertNoStackTrace(t, p.log.String())
			if !strings.Contains(p.log.String(), "msg=stopped") {
				t.Errorf("no \"stopped\" log line:\n%s", p.log)
			}
		})
	}
}

// TestServeNoSecretKeyFileWithEnv checks that NETKEEP_SECRET_KEY replaces the
// data dir's secret.key.
func TestServeNoSecretKeyFileWithEnv(t *testing.T) {
	dataDir := t.TempDir()
	p := startServe(t, cleanEnv("NETKEEP_SECRET_KEY="+strings.Repeat("k", 40)), "--data-dir", dataDir)
	waitReady(t, httpClient, p.url)
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit code after SIGINT = %d, want 0; log:\n%s", code, p.log)
	}
	if _, err := os.Stat(filepath.Join(dataDir, secret.FileName)); !os.IsNotExist(err) {
		t.Errorf("secret.key exists with NETKEEP_SECRET_KEY set (stat err %v)", err)
	}
}

// TestServeFinishesInFlightRequest sends SIGTERM while a request is half
// sent: the server must stop accepting, still answer that request in full,
// and then exit 0.
func TestServeFinishesInFlightRequest(t *testing.T) {
	p := startServe(t, nil, "--data-dir", t.TempDir())
	waitReady(t, httpClient, p.url)
	host := strings.TrimPrefix(p.url, "http://")

	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const body = `{"name":"in flight"}`
	if _, err := fmt.Fprintf(conn, "POST /api/v1/in-flight HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		host, len(body), body[:5]); err != nil {
		t.Fatal(err)
	}
	// The server accepts connections in order, so a complete request on a
	// later connection proves it owns the half-sent one before SIGTERM.
	oneShot := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, _ := do(t, oneShot, http.MethodGet, p.url+"/livez", nil); resp.StatusCode != 200 {
		t.Fatalf("GET /livez = %d", resp.StatusCode)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	closed := poll(10*time.Second, func() bool {
		c, err := net.Dial("tcp", host)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if !closed {
		t.Fatalf("listener still accepting 10s after SIGTERM; log:\n%s", p.log)
	}
	select {
	case <-p.done:
		t.Fatalf("netkeep exited with a request in flight; log:\n%s", p.log)
	default:
	}

	if _, err := io.WriteString(conn, body[5:]); err != nil {
		t.Fatalf("sending the rest of the body: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the in-flight response: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the in-flight body: %v", err)
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("in-flight request = %d, want 404; body %s", resp.StatusCode, got)
	}
	if code := envelopeCode(t, api.Own, got); code != "NOT_FOUND" {
		t.Errorf("code = %q, want NOT_FOUND", code)
	}

	select {
	case <-p.done:
	case <-time.After(processTimeout):
		t.Fatalf("netkeep did not exit after the in-flight request; log:\n%s", p.log)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code = %d, want 0; log:\n%s", code, p.log)
	}
}

// TestAdminCreateWhileServing: a user created by `netkeep admin create`
// against a running server's database survives the server's shutdown and a
// restart (no lost committed write).
func TestAdminCreateWhileServing(t *testing.T) {
	const password = "correct horse battery"
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dataDir := t.TempDir()
			db := newTestDB(t, kind)
			p := startServe(t, nil, db.flags(dataDir)...)
			waitReady(t, httpClient, p.url)

			r := runCLI(t, password+"\n", nil, append([]string{"admin", "create", "--username", "alice", "--email", "alice@example.com"}, db.flags(dataDir)...)...)
			if r.code != 0 || !strings.Contains(r.stdout, `created SUPER_ADMIN "alice"`) {
				t.Fatalf("admin create = %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit code after SIGTERM = %d, want 0; log:\n%s", code, p.log)
			}

			again := startServe(t, nil, db.flags(dataDir)...)
			waitReady(t, httpClient, again.url)
			if code := again.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("restarted server: exit code after SIGTERM = %d, want 0; log:\n%s", code, again.log)
			}

			assertUser(t, db.open(t, dataDir), "alice", password, "alice@example.com")
		})
	}
}

// assertUser checks that username exists as a SUPER_ADMIN whose password
// hash accepts password.
func assertUser(tb testing.TB, db *store.DB, username, password, email string) {
	tb.Helper()
	u, err := db.Read().UserByLogin(context.Background(), username)
	if err != nil {
		tb.Fatalf("reading user %q: %v", username, err)
	}
	if u.Role != identity.SuperAdmin || u.Email != email || !u.IsActive {
		tb.Errorf("user %q = role %s, email %q, active %v; want SUPER_ADMIN, %q, active", username, u.Role, u.Email, u.IsActive, email)
	}
	ok, err := identity.CheckPassword(u.PasswordHash, password)
	if err != nil || !ok {
		tb.Errorf("password of %q no longer checks (ok %v, err %v)", username, ok, err)
	}
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	p := startServe(t, nil, "--data-dir", filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(p.url, "https://") {
		t.Fatalf("listening URL %q is not https", p.url)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	waitReady(t, c, p.url)
	if resp, body := do(t, c, http.MethodGet, p.url+"/healthz", nil); resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET /healthz over TLS = %d %q (TLS %v)", resp.StatusCode, body, resp.TLS != nil)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0; log:\n%s", code, p.log)
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key to dir.
func selfSignedCert(tb testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "netkeep test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
