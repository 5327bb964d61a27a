package main

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/secret"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

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
					{"404/netkey psks", "GET", "/api/v1/psks/42/no-such-thing", 404, api.NetKey, "NOT_FOUND", ""},
					{"404/netkey auth", "POST", "/api/auth/no-such-thing", 404, api.NetKey, "NOT_FOUND", ""},
					{"404/gatekey admin", "GET", "/api/v1/admin/no-such-thing", 404, api.GateKey, "not_found", ""},
					{"404/gatekey pki", "GET", "/api/v1/pki/no-such-thing", 404, api.GateKey, "not_found", ""},
					{"404/nekzus", "GET", "/api/v1/devices/d1/no-such-thing", 404, api.Nekzus, "NOT_FOUND", ""},
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

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := servertest.SelfSignedCert(t, dir)
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

// TestServeSettingsPrecedence: every setting can come from NETKEEP_<NAME>,
// and a flag beats its variable.
func TestServeSettingsPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		env      func(envDir string) []string
		args     func(flagDir string) []string
		wantJSON bool // log format in effect
		wantDir  string
	}{
		{"defaults", nil, func(d string) []string { return []string{"--data-dir", d} }, false, "flag"},
		{"env only", func(d string) []string { return []string{"NETKEEP_LOG_FORMAT=json", "NETKEEP_DATA_DIR=" + d} }, nil, true, "env"},
		{"flags beat env", func(d string) []string { return []string{"NETKEEP_LOG_FORMAT=json", "NETKEEP_DATA_DIR=" + d} },
			func(d string) []string { return []string{"--log-format", "text", "--data-dir", d} }, false, "flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dirs := map[string]string{"env": t.TempDir(), "flag": t.TempDir()}
			var env, args []string
			if tt.env != nil {
				env = tt.env(dirs["env"])
			}
			if tt.args != nil {
				args = tt.args(dirs["flag"])
			}
			p := startServe(t, cleanEnv(env...), args...)
			waitReady(t, httpClient, p.url)
			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit code %d; log:\n%s", code, p.log)
			}

			for _, line := range strings.Split(strings.TrimSpace(p.log.String()), "\n") {
				var rec map[string]any
				isJSON := json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] != nil
				if isJSON != tt.wantJSON {
					t.Errorf("log line is JSON %v, want %v: %s", isJSON, tt.wantJSON, line)
				}
			}
			for name, dir := range dirs {
				_, err := os.Stat(filepath.Join(dir, secret.FileName))
				if used := err == nil; used != (name == tt.wantDir) {
					t.Errorf("%s data dir holds secret.key: %v; want only the %s dir used", name, used, tt.wantDir)
				}
			}
		})
	}
}

// TestServeBodyLimit: a body past the limit (1 MiB by default,
// --max-body-bytes) gets 413 in the path's envelope, naming the limit.
func TestServeBodyLimit(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		bodyBytes int
		wantLimit string
	}{
		{"flag", []string{"--max-body-bytes", "64"}, 1 << 10, "64 bytes"},
		{"default 1 MiB", nil, 1<<20 + 1<<10, "1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startServe(t, nil, append([]string{"--data-dir", t.TempDir()}, tt.args...)...)
			waitReady(t, httpClient, p.url)
			// A valid JSON object padded to size, so only its length is wrong.
			body := `{"username":"alice","password":"` + strings.Repeat("x", tt.bodyBytes) + `"}`
			resp, err := httpClient.Post(p.url+"/api/v1/auth/login", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("POST of %d bytes = %d, want 413; body %s", len(body), resp.StatusCode, got)
			}
			if code := envelopeCode(t, api.Nekzus, got); code != "TOO_LARGE" {
				t.Errorf("code = %q, want TOO_LARGE", code)
			}
			if !strings.Contains(string(got), tt.wantLimit) {
				t.Errorf("message does not name the limit %q: %s", tt.wantLimit, got)
			}
			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit code %d; log:\n%s", code, p.log)
			}
		})
	}
}

// TestServeRadiusListenEnv: NETKEEP_RADIUS_LISTEN and
// NETKEEP_RADIUS_ACCT_LISTEN set but empty disable RADIUS as the empty
// flags do; they are not "unset, use :1812/:1813".
func TestServeRadiusListenEnv(t *testing.T) {
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantListen []string // RADIUS listeners that must be logged as listening
	}{
		{"empty variables disable both", []string{"NETKEEP_RADIUS_LISTEN=", "NETKEEP_RADIUS_ACCT_LISTEN="}, nil, nil},
		{"empty flags disable both", nil, []string{"--radius-listen=", "--radius-acct-listen="}, nil},
		{"empty accounting only", []string{"NETKEEP_RADIUS_LISTEN=127.0.0.1:0", "NETKEEP_RADIUS_ACCT_LISTEN="}, nil, []string{"authentication"}},
		{"both set", []string{"NETKEEP_RADIUS_LISTEN=127.0.0.1:0", "NETKEEP_RADIUS_ACCT_LISTEN=127.0.0.1:0"}, nil, []string{"authentication", "accounting"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--data-dir", t.TempDir()}, tt.args...)
			p := startServe(t, cleanEnv(tt.env...), args...)
			waitReady(t, httpClient, p.url)
			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("exit code %d; log:\n%s", code, p.log)
			}
			log := p.log.String()
			for _, what := range []string{"authentication", "accounting"} {
				want := slices.Contains(tt.wantListen, what)
				if got := strings.Contains(log, "RADIUS "+what+" listening"); got != want {
					t.Errorf("RADIUS %s listening = %v, want %v; log:\n%s", what, got, want, log)
				}
				if strings.Contains(log, "RADIUS "+what+" listener disabled") {
					t.Errorf("RADIUS %s tried to bind; log:\n%s", what, log)
				}
			}
		})
	}
}
