package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/config"
)

// TestReplicasShareState runs two `netkeep serve` processes on one
// PostgreSQL with one NETKEEP_SECRET_KEY, as replicas behind a load
// balancer: a token issued by one works on the other, and a logout on one
// is enforced by the other within a second (LISTEN/NOTIFY).
func TestReplicasShareState(t *testing.T) {
	t.Parallel()
	db := newTestDB(t, config.Postgres)
	env := cleanEnv("NETKEEP_SECRET_KEY=replicas-share-this-secret-0123456789abcdef")
	// B is polled with auth/me until the logout reaches it: more than
	// Nekzus's 10 Authentication requests a minute from this address.
	a := startServe(t, env, db.flags(t.TempDir())...)
	b := startServe(t, env, append(db.flags(t.TempDir()), "--nekzus-auth-limit", "1000")...)
	waitReady(t, httpClient, a.url)
	waitReady(t, httpClient, b.url)

	post := func(base, path string, body any, token string) (int, map[string]any) {
		t.Helper()
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(j))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	me := func(base, token string) int {
		res, _ := do(t, httpClient, "GET", base+"/api/v1/auth/me", http.Header{"Authorization": {"Bearer " + token}})
		return res.StatusCode
	}

	if code, out := post(a.url, "/api/v1/auth/setup", map[string]string{"username": "admin", "password": "password1"}, ""); code != 201 {
		t.Fatalf("setup on A: %d %v", code, out)
	}
	if code, _ := post(b.url, "/api/v1/auth/setup", map[string]string{"username": "other", "password": "password1"}, ""); code != 409 {
		t.Fatalf("setup on B after A: %d, want 409", code)
	}
	code, out := post(a.url, "/api/v1/auth/login", map[string]string{"username": "admin", "password": "password1"}, "")
	if code != 200 {
		t.Fatalf("login on A: %d %v", code, out)
	}
	token := out["access_token"].(string)
	if got := me(b.url, token); got != 200 {
		t.Fatalf("A's token on B: %d", got)
	}
	if code, _ := post(a.url, "/api/v1/auth/logout", nil, token); code != 200 {
		t.Fatalf("logout on A: %d", code)
	}
	if !poll(time.Second, func() bool { return me(b.url, token) == http.StatusUnauthorized }) {
		t.Fatal("B still accepts the token a second after logout on A")
	}
	for _, p := range []*serveProc{a, b} {
		if code := p.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d:\n%s", code, p.log)
		}
	}
}
