package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// A paced SQLite backup is one snapshot although writers commit between
// its steps: every transaction of the writer below adds two audit rows, so
// a copy that mixed states would hold an odd number of them. The copy is a
// single rollback-journal file (it opens without a -wal beside it) that
// passes SQLite's integrity check.
func TestBackupSQLiteSnapshotUnderWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, config.SQLite)
	seedBackupData(t, db, "a")
	var before int64
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&before); err != nil {
		t.Fatal(err)
	}

	var commits atomic.Int64
	stop, warm := make(chan struct{}), make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for range 2 {
					e, err := audit.NewEntry(audit.Source{Actor: "writer"}, 0, "test.pair", "pair", map[string]any{"pad": string(make([]byte, 2000))})
					if err != nil {
						return err
					}
					if err := tx.InsertAudit(ctx, e); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				writerDone <- err
				return
			}
			if commits.Add(1) == 50 {
				close(warm)
			}
		}
	}()
	// Let the writer grow the database past a few steps' worth of pages.
	<-warm
	started := commits.Load()
	path := filepath.Join(t.TempDir(), "b.db")
	// Four pages per step with long pauses: the copy spans many commits.
	contents, err := db.Backup(ctx, path, store.BackupPace{StepPages: 4, Share: 0.2})
	during := commits.Load() - started
	close(stop)
	if werr := <-writerDone; werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if during == 0 {
		t.Fatal("no write committed while the backup ran: the test proves nothing")
	}
	var rows int64
	for _, tb := range contents.Tables {
		if tb.Name == "audit_log" {
			rows = tb.Rows
		}
	}
	if rows < before || (rows-before)%2 != 0 {
		t.Fatalf("the backup holds %d audit rows, %d before the writer: not one snapshot (%d commits during the copy)", rows, before, during)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if raw[18] != 1 || raw[19] != 1 {
		t.Fatalf("file format bytes %d %d: the copy is not in rollback-journal mode", raw[18], raw[19])
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("a -wal file stays beside the copy: %v", err)
	}
	check, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var ok string
	if err := check.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
}

// A backup stops when its context ends and leaves no file behind.
func TestBackupSQLiteCancelled(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.SQLite)
	seedBackupData(t, db, "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "b.db")
	if _, err := db.Backup(ctx, path, store.BackupPace{StepPages: 1, Share: 0.5}); err == nil {
		t.Fatal("a cancelled backup succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a cancelled backup left %s: %v", path, err)
	}
}
