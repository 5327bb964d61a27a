package main

// Fixtures shared by the serve tests: the database a test uses, HTTP
// helpers, the error-envelope check and a TLS certificate.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/config"
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
	// A client of the seeds names itself: Go's default User-Agent is the
	// signal of GateKey's own programs (api.GateKeyProgram).
	req.Header.Set("User-Agent", "netkeep-smoke-test")
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
	// Below the probes' documented budget (10/s per address, burst 50), so
	// a slow start does not leave the tests that follow without tokens.
	ready := pollEvery(30*time.Second, 150*time.Millisecond, func() bool {
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
