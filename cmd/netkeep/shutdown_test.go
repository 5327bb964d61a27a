package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/identity"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

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
