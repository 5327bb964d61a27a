package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// The crash tests kill -9 a real netkeep serve in the middle of a large
// write and check, after a restart, that the database holds all of that
// request or none of it and that the server starts (/readyz answers 200):
// on SQLite, and on PostgreSQL when NETKEEP_TEST_POSTGRES_URL is set.

// crashRows is the size of the import the crash test interrupts.
const crashRows = 100_000

// crashLab is one data directory and database that netkeep processes are
// started on, killed and restarted.
type crashLab struct {
	t     *testing.T
	db    testDB
	dir   string
	env   []string
	p     *serveProc
	store *store.DB
	token string
}

func newCrashLab(t *testing.T, kind config.DatabaseKind) *crashLab {
	t.Helper()
	l := &crashLab{t: t, db: newTestDB(t, kind), dir: t.TempDir(),
		env: cleanEnv("NETKEEP_SECRET_KEY=crash-test-secret-0123456789abcdef0123456789")}
	l.start()
	if code, out := l.post("/api/v1/auth/setup", "application/json", map[string]string{"username": "admin", "password": "password1"}); code != http.StatusCreated {
		t.Fatalf("setup: %d %s", code, out)
	}
	code, out := l.post("/api/v1/auth/login", "application/json", map[string]string{"username": "admin", "password": "password1"})
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(out, &login); code != http.StatusOK || err != nil || login.AccessToken == "" {
		t.Fatalf("login: %d %s", code, out)
	}
	l.token = login.AccessToken
	l.store = l.db.open(t, l.dir)
	return l
}

// start starts netkeep serve and waits until /readyz answers 200.
func (l *crashLab) start() {
	l.t.Helper()
	l.p = startServe(l.t, l.env, l.db.flags(l.dir)...)
	waitReady(l.t, httpClient, l.p.url)
}

// crash kills the server with SIGKILL, restarts it and waits until it is
// ready again.
func (l *crashLab) crash() {
	l.t.Helper()
	if err := l.p.cmd.Process.Kill(); err != nil {
		l.t.Fatalf("kill -9: %v", err)
	}
	<-l.p.done
	start := time.Now()
	l.start()
	l.t.Logf("restarted in %v", time.Since(start).Round(time.Millisecond))
}

// post sends body (JSON unless a string) with the admin's token, when
// there is one.
func (l *crashLab) post(path, contentType string, body any) (int, []byte) {
	l.t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest("POST", l.p.url+path, r)
	req.Header.Set("Content-Type", contentType)
	if l.token != "" {
		req.Header.Set("Authorization", "Bearer "+l.token)
	}
	res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		l.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// listed is the total of GET /api/v1/psks?search=prefix-: what a client
// sees of an import.
func (l *crashLab) listed(prefix string) int {
	l.t.Helper()
	res, body := do(l.t, httpClient, "GET", l.p.url+"/api/v1/psks?limit=1&search="+prefix+"-", http.Header{"Authorization": {"Bearer " + l.token}})
	var out struct {
		Total int `json:"total"`
	}
	if err := json.Unmarshal(body, &out); err != nil || res.StatusCode != http.StatusOK {
		l.t.Fatalf("listing: %d %s", res.StatusCode, body)
	}
	return out.Total
}

// count runs a count query on the database directly.
func (l *crashLab) count(query string, args ...any) int {
	l.t.Helper()
	var n int
	if err := l.store.SQL().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		l.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// upload is a request whose body is streamed from the test, so that the
// test knows how much of it the server was sent.
type upload struct {
	sent atomic.Int64
	size int64
	done chan uploadResult
	pw   *io.PipeWriter
}

type uploadResult struct {
	status int
	body   []byte
	err    error
}

// send starts POST path with body, written in 32 KiB pieces.
func (l *crashLab) send(path, contentType string, body []byte) *upload {
	u := &upload{size: int64(len(body)), done: make(chan uploadResult, 1)}
	pr, pw := io.Pipe()
	u.pw = pw
	go func() {
		for off := 0; off < len(body); off += 32 << 10 {
			n, err := pw.Write(body[off:min(len(body), off+32<<10)])
			u.sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", l.p.url+path, pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+l.token)
	go func() {
		res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
		if err != nil {
			u.done <- uploadResult{err: err}
			return
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		u.done <- uploadResult{status: res.StatusCode, body: out, err: err}
	}()
	return u
}

// finish ends the upload's goroutines once its server is gone.
func (u *upload) finish() {
	u.pw.CloseWithError(io.ErrClosedPipe)
	<-u.done
}

// waitFor polls cond until it holds; false when the upload ended first or
// the deadline passed.
func (u *upload) waitFor(cond func() bool) bool {
	return poll(3*time.Minute, func() bool {
		select {
		case r := <-u.done:
			u.done <- r
			return true
		default:
		}
		return cond()
	}) && cond()
}

func crashCSV(prefix string, attempt int) []byte {
	var b bytes.Buffer
	b.Grow(crashRows * 60)
	b.WriteString("psk_id,psk_value,vlan_id,mac_address\n")
	for i := range crashRows {
		fmt.Fprintf(&b, "%s-%06d,passphrase-%06d,100,%02x:%02x:%02x:%02x:%02x:00\n", prefix, i, i, 2+attempt*4, i>>24&0xff, i>>16&0xff, i>>8&0xff, i&0xff)
	}
	return b.Bytes()
}

// TestCrashDuringImport: a 100,000-row CSV import (one MAC each) killed
// with SIGKILL while its body is read, once it is fully sent, and once
// every row is written pending (on SQLite: the final transaction's moment;
// on PostgreSQL: inside the one transaction that writes the rows) leaves,
// after a restart, all 100,000 PSKs and endpoints visible or none, in the
// database and through the API; an import left to finish holds them all,
// and survives a kill after it answered.
func TestCrashDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 rows several times")
	}
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			l := newCrashLab(t, kind)
			var since int // the last import id before the case's
			staged := func() int {
				return l.count(`SELECT CAST(COALESCE(MAX(psks), 0) AS INTEGER) FROM psk_imports WHERE id > $1`, since)
			}
			cases := []struct {
				name   string
				killAt func(u *upload) bool // false: no kill, let it finish
			}{
				{"kill/40% of the body sent", func(u *upload) bool {
					return u.waitFor(func() bool { return u.sent.Load() >= u.size*4/10 })
				}},
				{"kill/body sent", func(u *upload) bool { return u.waitFor(func() bool { return u.sent.Load() == u.size }) }},
				{"kill/every row written pending", func(u *upload) bool { return u.waitFor(func() bool { return staged() >= crashRows }) }},
				{"201/no kill", nil},
			}
			if kind == config.Postgres {
				// PostgreSQL imports write no pending rows: they are copied
				// into one transaction held open until the import answers.
				// The last kill point is inside that transaction, with the
				// whole body sent and the endpoints (written after their
				// PSKs) being inserted.
				cases[2].name = "kill/rows written in the open transaction"
				cases[2].killAt = func(u *upload) bool {
					return u.waitFor(func() bool {
						return u.sent.Load() == u.size && l.count(`SELECT count(*) FROM pg_locks k JOIN pg_class c ON c.oid = k.relation
							WHERE c.relname = 'endpoints' AND k.mode = 'RowExclusiveLock' AND k.pid <> pg_backend_pid()`) > 0
					})
				}
			}
			// One process lineage for every case: no subtests, whose cleanup
			// would stop the server a case restarted.
			for i, tc := range cases {
				func() {
					prefix := fmt.Sprintf("crash%d", i)
					since = l.count(`SELECT CAST(COALESCE(MAX(id), 0) AS INTEGER) FROM psk_imports`)
					start := time.Now()
					u := l.send("/api/v1/psks/import", "text/csv", crashCSV(prefix, i))
					if tc.killAt != nil {
						if !tc.killAt(u) {
							t.Fatalf("%s: the import ended before the kill point", tc.name)
						}
						l.crash()
						u.finish()
					} else {
						r := <-u.done
						if r.err != nil || r.status != http.StatusCreated {
							t.Fatalf("%s: import: %d %s %v", tc.name, r.status, r.body, r.err)
						}
						l.crash()
					}
					// What readers see: rows not pending, or pending in an import made
					// visible (pending rows of a dead import are invisible until the
					// sweep deletes them).
					const visible = `(pending IS NULL OR pending IN (SELECT id FROM psk_imports WHERE visible))`
					psks := l.count(`SELECT count(*) FROM psks WHERE psk_id LIKE $1 AND `+visible, prefix+"-%")
					eps := l.count(`SELECT count(*) FROM endpoints e JOIN psks p ON p.id = e.psk_id WHERE p.psk_id LIKE $1 AND `+
						strings.ReplaceAll(visible, "pending ", "e.pending "), prefix+"-%")
					if api := l.listed(prefix); api != psks {
						t.Fatalf("%s: the API lists %d PSKs of the import, the database holds %d visible", tc.name, api, psks)
					}
					t.Logf("%s after %v: restarted, %d PSKs, %d endpoints", tc.name, time.Since(start).Round(time.Millisecond), psks, eps)
					if (psks != 0 && psks != crashRows) || eps != psks {
						t.Fatalf("%s: %d PSKs and %d endpoints of the import; want 0 or %d of both", tc.name, psks, eps, crashRows)
					}
					if tc.killAt == nil && psks != crashRows {
						t.Fatalf("%s: a finished import holds %d PSKs", tc.name, psks)
					}
				}()
			}
		})
	}
}

// TestCrashDuringEndpointBulk: POST /api/v1/endpoints/bulk of 1,000
// endpoints killed with SIGKILL while its body is read and at several
// instants after it was sent leaves, after a restart, all 1,000 or none.
func TestCrashDuringEndpointBulk(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			l := newCrashLab(t, kind)
			if code, out := l.post("/api/v1/psks", "application/json", map[string]any{"psk_id": "bulk-target"}); code != http.StatusCreated {
				t.Fatalf("creating the PSK: %d %s", code, out)
			}
			after := []time.Duration{-1, 0, 20 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond, 1500 * time.Millisecond}
			for i, d := range after {
				func() {
					name := fmt.Sprintf("kill %v after the body", d)
					if d < 0 {
						name = "kill mid-body"
					}
					items := make([]map[string]any, 1000)
					for j := range items {
						items[j] = map[string]any{"mac_address": fmt.Sprintf("06:%02x:00:00:%02x:%02x", i, j>>8, j&0xff), "psk_id": "bulk-target",
							"description": strings.Repeat("d", 100)}
					}
					body, _ := json.Marshal(map[string]any{"endpoints": items})
					u := l.send("/api/v1/endpoints/bulk", "application/json", body)
					var ok bool
					if d < 0 {
						ok = u.waitFor(func() bool { return u.sent.Load() >= u.size/2 })
					} else {
						ok = u.waitFor(func() bool { return u.sent.Load() == u.size })
						if ok && d > 0 {
							kill := time.NewTimer(d)
							select {
							case <-kill.C:
							case r := <-u.done:
								u.done <- r
							}
						}
					}
					if !ok {
						t.Logf("%s: the request ended before the kill point", name)
					}
					l.crash()
					u.finish()
					n := l.count(`SELECT count(*) FROM endpoints WHERE mac LIKE $1`, fmt.Sprintf("06:%02x:%%", i))
					t.Logf("%s: restarted, %d endpoints", name, n)
					if n != 0 && n != len(items) {
						t.Fatalf("%s: %d endpoints of the bulk; want 0 or %d", name, n, len(items))
					}
				}()
			}
		})
	}
}
