package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSIGHUPReloadsAppsFile: SIGHUP makes a running server read its
// route file again; a file it cannot use is logged and the old routes stay
// served; the process keeps running either way and stops cleanly after.
func TestServeSIGHUPReloadsAppsFile(t *testing.T) {
	dir := t.TempDir()
	apps := filepath.Join(dir, "apps.yaml")
	write := func(text string) {
		if err := os.WriteFile(apps, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("routes:\n  - appId: wiki\n    to: http://127.0.0.1:9\n")
	p := startServe(t, nil, "--data-dir", filepath.Join(dir, "data"), "--apps-file", apps, "--local-trust", "loopback",
		"--radius-listen=", "--radius-acct-listen=", "--mesh-interfaces=false", "--docker-host=")
	waitReady(t, httpClient, p.url)
	appIDs := func() []string {
		resp, err := httpClient.Get(p.url + "/api/v1/apps") // IP-based (local)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var list []struct {
			ID string `json:"id"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
			t.Fatalf("GET /api/v1/apps: %d %s", resp.StatusCode, body)
		}
		var ids []string
		for _, a := range list {
			ids = append(ids, a.ID)
		}
		return ids
	}
	hup := func(wantLog string, n int) {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if !poll(30*time.Second, func() bool { return strings.Count(p.log.String(), wantLog) >= n }) {
			t.Fatalf("no %q in the log after SIGHUP:\n%s", wantLog, p.log)
		}
	}

	write("routes:\n  - appId: wiki\n    to: http://127.0.0.1:9\n  - appId: grafana\n    to: http://127.0.0.1:3000\n")
	hup("configuration reloaded", 1)
	if got := strings.Join(appIDs(), ","); got != "grafana,wiki" && got != "wiki,grafana" {
		t.Fatalf("apps after the reload: %s", got)
	}
	write("routes:\n  - appId: wiki\n    too: http://127.0.0.1:9\n")
	hup("msg=reload", 1)
	if got := len(appIDs()); got != 2 {
		t.Fatalf("a bad file changed the apps: %d of them", got)
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.log)
	}
}
