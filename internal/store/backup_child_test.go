package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"netkeep/internal/backup"
	"netkeep/internal/config"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// child is this test binary as the backup child (see TestMain).
func child() []string { return []string{os.Args[0], "backup-child"} }

// sh is a backup child written as a shell script: before script runs, it
// has read the first request and set $to to the file it names.
func sh(script string) []string {
	return []string{"sh", "-c", `read -r req; to=${req#*'"to":"'}; to=${to%%'"'*}; ` + script}
}

// countedChild is the backup child started through a shell that appends a
// line to log at each start.
func countedChild(log string) []string {
	return []string{"sh", "-c", `echo start >> "$1"; exec "$2" backup-child`, "sh", log, os.Args[0]}
}

func starts(t *testing.T, log string) int {
	t.Helper()
	raw, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(raw), "start")
}

// A backup taken in a child process describes the same contents as one
// taken in the server's, and its report matches the file it wrote, on
// both engines; backups after the first reuse the same process, and Close
// ends it.
func TestBackupInChild(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedBackupData(t, db, "a")
		dir := t.TempDir()
		inProcess, err := db.Backup(ctx, filepath.Join(dir, "here.db"), store.BackupPace{})
		if err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, "starts")
		c := store.NewBackupChild(countedChild(log))
		defer c.Close()
		for i := range 3 {
			path := filepath.Join(dir, "child"+strconv.Itoa(i)+".db")
			got, err := c.Backup(ctx, db, path, store.BackupPace{StepPages: 8, Share: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			if got.SchemaVersion != inProcess.SchemaVersion || len(got.Tables) != len(inProcess.Tables) {
				t.Fatalf("child %+v, in process %+v", got, inProcess)
			}
			for i, tb := range got.Tables {
				if tb != inProcess.Tables[i] {
					t.Fatalf("table %d: child %+v, in process %+v", i, tb, inProcess.Tables[i])
				}
			}
			size, sum, err := backup.Checksum(ctx, path, nil)
			if err != nil || size != got.Size || sum != got.SHA256 {
				t.Fatalf("file %d %s %v; report %d %s", size, sum, err, got.Size, got.SHA256)
			}
			if _, err := store.InspectBackup(ctx, path); err != nil {
				t.Fatalf("the child's copy does not open: %v", err)
			}
		}
		if n := starts(t, log); n != 1 {
			t.Fatalf("three backups started %d children, want 1", n)
		}
		c.Close()
		if _, err := c.Backup(ctx, db, filepath.Join(dir, "after-close.db"), store.BackupPace{}); err != nil {
			t.Fatal(err)
		}
		if n := starts(t, log); n != 2 {
			t.Fatalf("a backup after Close: %d children started in all, want 2", n)
		}
	})
}

// A child that fails, dies, is cancelled or reports nonsense fails the
// backup with its reason and leaves no file behind; the next backup works,
// in the same child when it only reported an error, in a new one
// otherwise.
func TestBackupInChildFailures(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.SQLite)
	seedBackupData(t, db, "a")
	tests := []struct {
		name    string
		command []string
		missing bool // the target directory does not exist
		want    string
		reused  bool // the child goes on after the failure
	}{
		{"the child's error", child(), true, "unable to open", true},
		{"killed half-way", sh(`printf half > "$to"; kill -9 $$`), false, "signal: killed", false},
		{"a report that is not the file", sh(`printf half > "$to"; echo '{"contents": {"Size": 99, "SHA256": "ab"}}'; exec cat >/dev/null`), false, "does not describe the file", false},
		{"no report", sh(`printf half > "$to"`), false, "exited without a report", false},
		{"an unreadable report", sh(`printf half > "$to"; echo nonsense; exec cat >/dev/null`), false, "unreadable report", false},
		{"no command", nil, false, "no backup child command", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "b.db")
			if tc.missing {
				path = filepath.Join(dir, "missing", "b.db")
			}
			log := filepath.Join(dir, "starts")
			var command []string
			if tc.command != nil {
				// The first start runs the case; later ones the real child.
				command = append([]string{"sh", "-c", `log=$1 bin=$2; shift 2; echo start >> "$log"; ` +
					`if [ "$(wc -l < "$log")" -gt 1 ]; then exec "$bin" backup-child; fi; exec "$@"`, "sh", log, os.Args[0]}, tc.command...)
			}
			c := store.NewBackupChild(command)
			defer c.Close()
			_, err := c.Backup(context.Background(), db, path, store.DefaultBackupPace)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("a failed backup left %s: %v", path, err)
			}
			if command == nil {
				return
			}
			if _, err := c.Backup(context.Background(), db, filepath.Join(dir, "next.db"), store.DefaultBackupPace); err != nil {
				t.Fatalf("the backup after the failure: %v", err)
			}
			want := 2
			if tc.reused {
				want = 1
			}
			if n := starts(t, log); n != want {
				t.Fatalf("%d children started for the two backups, want %d", n, want)
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "b.db")
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for {
				if _, err := os.Stat(path); err == nil {
					cancel()
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		c := store.NewBackupChild(sh(`printf half > "$to"; exec sleep 600`))
		defer c.Close()
		_, err := c.Backup(ctx, db, path, store.DefaultBackupPace)
		if err != context.Canceled {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("a cancelled backup left %s: %v", path, err)
		}
	})
}

// The child lowers every thread it has, and the threads the runtime starts
// afterwards inherit the idle class.
func TestBackupChildPriority(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the idle scheduling class is Linux's")
	}
	out, err := exec.Command(os.Args[0], "lower-priority").Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var before, after, idle int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "threads":
			before, after = atoi(t, f[1]), atoi(t, f[2])
		case len(f) == 4 && f[2] == "policy" && f[3] == "5": // SCHED_IDLE
			idle++
		default:
			t.Errorf("thread not in the idle class: %s", line)
		}
	}
	if after <= before || idle != after {
		t.Fatalf("%d threads before, %d after, %d of them idle:\n%s", before, after, idle, out)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
