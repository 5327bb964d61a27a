package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/config"
)

// fedProc is a `netkeep serve` with federation on, called with the master
// key.
type fedProc struct {
	*serveProc
	fedURL string
}

const fedMasterKey = "federation-e2e-master-key-0123456789abcdef"

var fedListening = regexp.MustCompile(`msg="federation listening" url=(\S+)`)

func startFederated(t *testing.T, name string) *fedProc {
	t.Helper()
	db := newTestDB(t, config.SQLite)
	args := append(db.flags(t.TempDir()), "--federation-listen", "127.0.0.1:0", "--federation-name", name,
		"--federation-sync-interval", "1h", "--radius-listen", "", "--radius-acct-listen", "", "--docker-host", "",
		"--mesh-interfaces=false")
	p := startServe(t, cleanEnv("NETKEEP_MASTER_KEY="+fedMasterKey), args...)
	waitReady(t, httpClient, p.url)
	var fedURL string
	if !poll(10*time.Second, func() bool {
		m := fedListening.FindStringSubmatch(p.log.String())
		if m != nil {
			fedURL = m[1]
		}
		return m != nil
	}) {
		t.Fatalf("%s logged no federation URL:\n%s", name, p.log)
	}
	return &fedProc{serveProc: p, fedURL: fedURL}
}

// call sends a JSON request with the master key and returns the status
// and raw body.
func (p *fedProc) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+fedMasterKey)
	req.Header.Set("User-Agent", "netkeep-federation-test")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

func (p *fedProc) json(t *testing.T, method, path string, body any, want int) map[string]any {
	t.Helper()
	code, raw := p.call(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, raw, want)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestFederationProcesses runs two real netkeep processes on loopback:
// they federate with a join token, sync, proxy a request to an app of the
// other, and drop it once the peer is removed.
func TestFederationProcesses(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "notes app at %s", r.URL.Path)
	}))
	defer up.Close()
	a := startFederated(t, "site-a")
	b := startFederated(t, "site-b")

	a.json(t, "POST", "/api/v1/routes", map[string]any{"appId": "notes", "name": "Notes", "to": up.URL}, 201)
	tok := a.json(t, "POST", "/api/v1/federation/tokens", map[string]any{"expires_in": 600}, 201)
	peer := b.json(t, "POST", "/api/v1/federation/join", map[string]any{"token": tok["token"]}, 201)
	if peer["name"] != "site-a" || peer["url"] != a.fedURL {
		t.Fatalf("B's peer after join: %v (A listens at %s)", peer, a.fedURL)
	}
	if code, raw := b.call(t, "POST", "/api/v1/federation/join", map[string]any{"token": tok["token"]}); code != 403 {
		t.Errorf("second join with one token: %d %s, want 403", code, raw)
	}
	aID := peer["id"].(string)
	remote := strings.ReplaceAll(aID, "_", "-") + "-notes"

	b.json(t, "POST", "/api/v1/federation/sync", nil, 200)
	code, raw := b.call(t, "GET", "/api/v1/apps", nil)
	if code != 200 || !strings.Contains(string(raw), `"id":"`+remote+`"`) || !strings.Contains(string(raw), `"remote":true`) {
		t.Fatalf("B's catalog: %d %s", code, raw)
	}
	if code, raw := b.call(t, "GET", "/apps/"+remote+"/today", nil); code != 200 || string(raw) != "notes app at /today" {
		t.Fatalf("A's app through B: %d %s", code, raw)
	}
	// A knows B too (from the join) and reaches B's empty catalog.
	st := a.json(t, "GET", "/api/v1/federation/status", nil, 200)
	if st["peer_count"] != 1.0 || st["enabled"] != true {
		t.Errorf("A's status: %v", st)
	}

	b.json(t, "DELETE", "/api/v1/federation/peers/"+aID, nil, 204)
	if code, raw := b.call(t, "GET", "/apps/"+remote+"/today", nil); code != 404 {
		t.Errorf("A's app through B after the removal: %d %s, want 404", code, raw)
	}
	if _, raw := b.call(t, "GET", "/api/v1/apps", nil); strings.Contains(string(raw), remote) {
		t.Errorf("B's catalog still lists %s: %s", remote, raw)
	}
	for _, p := range []*fedProc{a, b} {
		if code := p.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d:\n%s", code, p.log)
		}
	}
}
