package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

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
