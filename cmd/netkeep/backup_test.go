package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/backup"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// restoreRows is how many PSKs the restore tests copy back: enough that a
// restore takes long enough to be killed in the middle.
const restoreRows = 20_000

var backupIDLine = regexp.MustCompile(`(?m)^backup (backup_\S+)$`)

// TestBackupRestoreCommands: netkeep backup takes a backup the server's own
// API also lists; netkeep restore brings a facet back and leaves the others;
// kill -9 in the middle of a restore leaves the old data or the new, never
// a mix; bad arguments fail with one line.
func TestBackupRestoreCommands(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db, dir := newTestDB(t, kind), t.TempDir()
			env := cleanEnv("NETKEEP_SECRET_KEY=backup-test-secret-0123456789abcdef0123456789")
			// cli runs netkeep with the command's words, then the database
			// flags, then args (flags stop at the first positional argument).
			cli := func(words string, args ...string) result {
				t.Helper()
				return runCLI(t, "", env, append(append(strings.Fields(words), db.flags(dir)...), args...)...)
			}
			if r := cli("admin create", "--username", "alice", "--password", "long enough password"); r.code != 0 {
				t.Fatalf("admin create: %s", r.stderr)
			}
			st := db.open(t, dir)
			seedPSKs(t, st, restoreRows)

			r := cli("backup", "--description", "before the change")
			m := backupIDLine.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil {
				t.Fatalf("backup: %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			id := m[1]
			if r := cli("backup list"); r.code != 0 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "before the change") {
				t.Fatalf("backup list: %s %s", r.stdout, r.stderr)
			}

			if _, err := st.SQL().Exec(`DELETE FROM psks`); err != nil {
				t.Fatal(err)
			}
			if r := cli("admin create", "--username", "bob", "--password", "long enough password"); r.code != 0 {
				t.Fatalf("admin create bob: %s", r.stderr)
			}
			began := time.Now()
			if r := cli("restore", "--facets", "wifi", id); r.code != 0 {
				t.Fatalf("restore: %s", r.stderr)
			}
			whole := time.Since(began)
			if n := countRows(t, st, `SELECT COUNT(*) FROM psks`); n != restoreRows {
				t.Fatalf("%d PSKs after the restore, want %d", n, restoreRows)
			}
			if n := countRows(t, st, `SELECT COUNT(*) FROM users WHERE username = 'bob'`); n != 1 {
				t.Fatal("a facet that was not restored changed")
			}

			// kill -9 at several moments of a restore, as fractions of how
			// long a whole one took (most of which is the copy): the PSKs
			// are all there or all gone, never some.
			outcomes := map[int]int{}
			for _, frac := range []float64{0.4, 0.6, 0.75, 0.9, 0.97} {
				after := time.Duration(frac * float64(whole))
				if _, err := st.SQL().Exec(`DELETE FROM psks`); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(binary, append(append([]string{"restore"}, db.flags(dir)...), "--facets", "wifi", id)...)
				cmd.Env = env
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(after) // the moment to kill, not a wait for a condition
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				n := countRows(t, st, `SELECT COUNT(*) FROM psks`)
				if n != 0 && n != restoreRows {
					t.Fatalf("killed after %v: %d PSKs, want 0 or %d", after, n, restoreRows)
				}
				outcomes[n]++
			}
			t.Logf("a whole restore took %v; killed restores left the old data %d times, the new %d times",
				whole.Round(time.Millisecond), outcomes[0], outcomes[restoreRows])
			if r := cli("restore", "--facets", "wifi", id); r.code != 0 {
				t.Fatalf("restore after the kills: %s", r.stderr)
			}
			if n := countRows(t, st, `SELECT COUNT(*) FROM psks`); n != restoreRows {
				t.Fatalf("%d PSKs after the last restore", n)
			}

			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"--facets", "wifi,toasters", id}, "unknown facet"},
				{[]string{"backup_20260101T000000Z_00000000"}, "backup not found"},
				{nil, "usage"},
			} {
				r := cli("restore", c.args...)
				if r.code == 0 {
					t.Fatalf("%v: exit 0", c.args)
				}
				assertOneErrorLine(t, r.stderr, c.want)
			}
		})
	}
}

// seedPSKs writes n PSKs into the default group with plain SQL.
func seedPSKs(tb testing.TB, st *store.DB, n int) {
	tb.Helper()
	const per = 500
	now := time.Now().UTC()
	for i := 0; i < n; i += per {
		var rows []string
		var args []any
		for j := i; j < min(i+per, n); j++ {
			k := len(args)
			rows = append(rows, fmt.Sprintf("((SELECT MIN(id) FROM groups), $%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5))
			args = append(args, fmt.Sprintf("psk-%06d", j), []byte("sealed"), fmt.Sprintf("seal-%06d", j), now, now)
		}
		if _, err := st.SQL().Exec(`INSERT INTO psks (group_id, psk_id, passphrase, seal_id, created_at, updated_at) VALUES `+
			strings.Join(rows, ", "), args...); err != nil {
			tb.Fatal(err)
		}
	}
}

func countRows(tb testing.TB, st *store.DB, q string) int {
	tb.Helper()
	var n int
	if err := st.SQL().QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// netkeep serve takes a backup asked for through the API in its backup
// child (`netkeep backup copy`): the API answers as documented and the
// copy with its manifest lands in the backups directory, on both engines.
// The child command alone refuses what the server would never send it,
// and ends quietly at the end of its input.
func TestServeBackupInChild(t *testing.T) {
	const key = "backup-child-test-master-key-0123456789"
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			db, dir := newTestDB(t, kind), t.TempDir()
			p := startServe(t, cleanEnv("NETKEEP_MASTER_KEY="+key), db.flags(dir)...)
			waitReady(t, httpClient, p.url)
			req, err := http.NewRequest(http.MethodPost, p.url+"/api/v1/backups", strings.NewReader(`{"description":"through the child"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b struct {
				ID     string           `json:"id"`
				Size   int64            `json:"size"`
				SHA256 string           `json:"sha256"`
				Tables map[string]int64 `json:"tables"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("POST /api/v1/backups: %d %v\n%s", resp.StatusCode, err, p.log)
			}
			size, sum, err := backup.Checksum(context.Background(), filepath.Join(dir, "backups", b.ID+".db"), nil)
			if err != nil || size != b.Size || sum != b.SHA256 || b.Tables["users"] < 0 || len(b.Tables) == 0 {
				t.Fatalf("backup %+v; file %d bytes %s %v", b, size, sum, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "backups", b.ID+".json")); err != nil {
				t.Fatalf("no manifest: %v", err)
			}
		})
	}
	for name, tc := range map[string]struct {
		stdin string
		args  []string
	}{
		"arguments": {"", []string{"--engine", "sqlite"}},
		"not JSON":  {"/tmp/x.db\n", nil},
		"no target": {`{"engine":"sqlite","dsn":"/tmp/x.db"}` + "\n", nil},
	} {
		r := runCLI(t, tc.stdin, nil, append([]string{"backup", "copy"}, tc.args...)...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "netkeep: usage") || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("%s: %d %q", name, r.code, r.stderr)
		}
	}
	if r := runCLI(t, "", nil, "backup", "copy"); r.code != 0 || r.stdout != "" {
		t.Fatalf("no requests: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
