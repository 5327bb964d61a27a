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

// A backup taken in a child process describes the same contents as one
// taken in the server's, and its report matches the file it wrote, on
// both engines.
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
		path := filepath.Join(dir, "child.db")
		got, err := db.BackupInChild(ctx, child(), path, store.BackupPace{StepPages: 8, Share: 0.5})
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
	})
}

// A child that fails, dies, is cancelled or reports nonsense fails the
// backup with its reason and leaves no file behind.
func TestBackupInChildFailures(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.SQLite)
	seedBackupData(t, db, "a")
	// The parent appends --engine E --to PATH ...: PATH is $4 of a sh -c script.
	sh := func(script string) []string { return []string{"sh", "-c", script, "sh"} }
	tests := []struct {
		name    string
		command []string
		missing bool // the target directory does not exist
		want    string
	}{
		{"the child's error", child(), true, "unable to open"},
		{"killed half-way", sh(`printf half > "$4"; kill -9 $$`), false, "signal: killed"},
		{"a report that is not the file", sh(`printf half > "$4"; echo '{"Size": 99, "SHA256": "ab"}'`), false, "does not describe the file"},
		{"no report", sh(`printf half > "$4"`), false, "unreadable report"},
		{"no command", nil, false, "no backup child command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "b.db")
			if tc.missing {
				path = filepath.Join(dir, "missing", "b.db")
			}
			_, err := db.BackupInChild(context.Background(), tc.command, path, store.DefaultBackupPace)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("a failed backup left %s: %v", path, err)
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
		_, err := db.BackupInChild(ctx, sh(`printf half > "$4"; exec sleep 600`), path, store.DefaultBackupPace)
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
