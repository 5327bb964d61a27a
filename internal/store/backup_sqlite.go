package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"time"

	"modernc.org/sqlite"
)

// BackupPace bounds how hard a SQLite backup copies, so the server's other
// work (RADIUS above all) keeps its latency while a backup runs. The copy
// uses SQLite's online backup API: StepPages pages at a time inside one
// read transaction (a consistent snapshot in WAL mode; writers go on), with
// a pause after each step long enough that the copy keeps at most Share of
// one core (measured by the CPU time of the copy's own OS thread, so time
// spent waiting for a core does not slow the copy further).
//
// The zero BackupPace copies everything in one step, unpaced.
type BackupPace struct {
	StepPages int     // pages per step; 0 or less: all at once
	Share     float64 // of one core, in (0, 1]; 0 or 1: no pauses
}

// DefaultBackupPace: 256 pages (1 MiB at SQLite's default page size) per
// step, at most a tenth of a core. Measured in bench/README.md ("RADIUS
// while backups are taken"): a backup of a 70 MB database of 100,000 PSKs
// takes about a second (0.3-0.7 s at a quarter of a core, which disturbed
// RADIUS more), with less CPU than VACUUM INTO took.
var DefaultBackupPace = BackupPace{StepPages: 256, Share: 0.1}

// pause is how long to rest after a step that took worked.
func (p BackupPace) pause(worked time.Duration) time.Duration {
	if p.Share <= 0 || p.Share >= 1 {
		return 0
	}
	return time.Duration(float64(worked) * (1/p.Share - 1))
}

// onlineBackup is what modernc's connections offer for the online backup
// API (sqlite3_backup_*).
type onlineBackup interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// copyReadMap is how much of a database file SQLite maps into memory to
// read it during a backup (the source, then the copy being counted): a
// page fault maps several pages of the page cache at once, where a read
// costs a system call per page.
const copyReadMap = 1 << 30

// copySQLite writes a consistent copy of the SQLite database at from to
// path with the online backup API, paced by pace, and converts the copy to
// rollback-journal mode so it is whole on its own. The copy is not synced
// page by page: its pages are handed to the disk a step at a time
// (writeback) and synced once at the end.
func copySQLite(ctx context.Context, from, path string, pace BackupPace) error {
	src, err := sql.Open("sqlite", "file:"+from+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=mmap_size("+strconv.Itoa(copyReadMap)+")")
	if err != nil {
		return err
	}
	defer src.Close()
	c, err := src.Conn(ctx)
	if err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	defer c.Close()
	// One read transaction for the whole copy: every step reads the same
	// snapshot, and writes of other connections (to the WAL) never make
	// the backup restart.
	if _, err := c.ExecContext(ctx, `BEGIN`); err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) //nolint:errcheck // read-only
	var n int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&n); err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	err = c.Raw(func(dc any) error {
		ob, ok := dc.(onlineBackup)
		if !ok {
			return fmt.Errorf("the SQLite driver offers no online backup")
		}
		return stepBackup(ctx, ob, path, pace)
	})
	if err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	// The copied header says WAL, as the source's does; opening the copy
	// read-write with journal_mode(DELETE) makes it a single file.
	f, err := openBackupFile(ctx, path, false)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncFile(path)
}

// stepBackup runs the backup from ob to the file at path, pace.StepPages
// at a time, pausing between steps, until done or ctx ends. The copy is
// written without syncs (synchronous off: a failed copy is deleted
// anyway); after each step the pages written so far are handed to the disk
// (startWriteback), so no sync at the end has the whole file to write.
func stepBackup(ctx context.Context, ob onlineBackup, path string, pace BackupPace) (err error) {
	b, err := ob.NewBackup("file:" + path + "?_pragma=synchronous(0)")
	if err != nil {
		return err
	}
	defer func() {
		if ferr := b.Finish(); err == nil {
			err = ferr
		}
	}()
	dst, err := os.Open(path)
	if err != nil {
		return err
	}
	defer dst.Close()
	step := int32(-1)
	if pace.StepPages > 0 {
		step = int32(pace.StepPages)
	}
	pc := pace.start()
	for {
		more, err := b.Step(step)
		if err != nil || !more {
			return err
		}
		startWriteback(dst)
		if err := pc.rest(ctx); err != nil {
			return err
		}
	}
}

// syncFile flushes the file at path to the disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing the backup file: %w", err)
	}
	return nil
}

// pacer keeps a run of work steps on the current thread within its pace:
// rest, called after each step, sleeps for as long as the step needs to
// stay within Share of a core.
type pacer struct {
	pace BackupPace
	t0   time.Time
	c0   time.Duration
}

func (p BackupPace) start() *pacer { return &pacer{pace: p, t0: time.Now(), c0: threadCPU()} }

// minRest is the shortest pause rest takes: work whose pause would be
// shorter goes on and is paid for with the next chunk's. Each pause costs
// a sleep and a wakeup in the kernel, and the checksum alone rests after
// every 64 KiB read.
const minRest = time.Millisecond

// rest pauses after the work done since the last pause (or start), once
// that work's pause reaches minRest. The work is the thread's CPU time
// where it is known (not time spent waiting for a core), else the wall
// time.
func (pc *pacer) rest(ctx context.Context) error {
	worked := threadCPU() - pc.c0
	if worked <= 0 {
		worked = time.Since(pc.t0)
	}
	d := pc.pace.pause(worked)
	if d < minRest {
		return ctx.Err()
	}
	err := sleep(ctx, d)
	pc.t0, pc.c0 = time.Now(), threadCPU()
	return err
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
