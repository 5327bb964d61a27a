package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"

	"netkeep/internal/audit"
	"netkeep/internal/backup"
	"netkeep/internal/config"
)

// Backups. A backup is one SQLite file holding every netkeep table at the
// schema version of the database it was taken from, whatever that
// database's engine: SQLite is copied page by page with the online backup
// API inside one read transaction (a consistent online copy, paced: see
// BackupPace), PostgreSQL table by table inside one REPEATABLE READ transaction
// into a fresh file migrated to the same version. Sealed values (PSKs, CA
// keys, secrets) are copied as stored: a backup opens only under the same
// server secret.
//
// A restore replaces the contents of the tables it is given with the
// backup's, in one transaction of the live database: rows the backup lacks
// are deleted (children before parents), the backup's rows are upserted
// (parents before children), and identity sequences are moved past the
// restored ids. Foreign keys stay enforced, so a restore that would leave a
// dangling reference fails and changes nothing. A backup of an older schema
// is migrated (a copy of it) first; one of a newer schema is refused.

// backupVersionTable is goose's bookkeeping, never restored.
const backupVersionTable = "goose_db_version"

// BackupTable is one table of a backup and its row count.
type BackupTable struct {
	Name string
	Rows int64
}

// BackupContents describes a backup file.
type BackupContents struct {
	SchemaVersion int64
	Tables        []BackupTable // by name
	Size          int64         // of the file, in bytes (set by Backup)
	SHA256        string        // of the file, lowercase hex (set by Backup)
}

// Backup writes a consistent copy of the whole database to path, which
// must not exist, and describes it. It runs beside normal traffic: on
// SQLite readers and the writer are not blocked, and the copy is paced by
// pace on a thread of its own; on PostgreSQL it is one read-only
// transaction (the work is the database server's; pace is not used).
// BackupInChild does the same in a child process.
func (db *DB) Backup(ctx context.Context, path string, pace BackupPace) (*BackupContents, error) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("backup file %s already exists", path)
	}
	var out *BackupContents
	if db.Kind != config.SQLite {
		pace = BackupPace{} // the export's work is the database server's
	}
	err := onOwnThread(func() error {
		var err error
		if db.Kind == config.SQLite {
			err = copySQLite(ctx, db.path, path, pace)
		} else {
			err = db.exportPostgres(ctx, path)
		}
		if err == nil {
			out, err = inspectBackup(ctx, path, pace)
		}
		if err == nil {
			out.Size, out.SHA256, err = backup.Checksum(ctx, path, pace.start().rest)
		}
		if err == nil {
			// Written, synced and read back: the copy's pages leave the
			// page cache here, at this thread's priority, rather than
			// when retention deletes the file in the server's process.
			dropCache(path)
		}
		return err
	})
	if err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return out, nil
}

// exportPostgres copies every table, as one snapshot, into a new SQLite
// file migrated to the PostgreSQL schema's version.
func (db *DB) exportPostgres(ctx context.Context, path string) error {
	src, err := db.write.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return wrap(err, "starting the backup snapshot")
	}
	defer src.Rollback() //nolint:errcheck // read-only
	var version int64
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+backupVersionTable+` WHERE is_applied`).Scan(&version); err != nil {
		return wrap(err, "reading the schema version")
	}
	dst, err := openBackupFile(ctx, path, false)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := migrateBackupFile(ctx, dst, version); err != nil {
		return err
	}
	tables, err := backupTables(ctx, dst)
	if err != nil {
		return err
	}
	tx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	for _, t := range tables {
		// Migrations seed some rows (the default group); the copy is the
		// source's rows only.
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(t.name)); err != nil {
			return fmt.Errorf("backup file: clearing %s: %w", t.name, err)
		}
		if err := copyRows(ctx, src, tx, t, nil); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	return nil
}

// openBackupFile opens a backup file with foreign keys off (a copy is
// written table by table) in rollback-journal mode, so the file is whole on
// its own once closed; read-only, it is read through a memory map
// (copyReadMap).
func openBackupFile(ctx context.Context, path string, readOnly bool) (*sql.DB, error) {
	dsn := "file:" + path + "?_pragma=foreign_keys(0)&_pragma=journal_mode(DELETE)&_pragma=busy_timeout(10000)"
	if readOnly {
		dsn = "file:" + path + "?mode=ro&_pragma=foreign_keys(0)&_pragma=mmap_size(" + strconv.Itoa(copyReadMap) + ")"
	}
	c, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	if err := c.PingContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("opening backup file %s: %w", path, err)
	}
	return c, nil
}

// migrateBackupFile brings a backup file's schema to version with the
// SQLite migrations.
func migrateBackupFile(ctx context.Context, c *sql.DB, version int64) error {
	sub, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, c, sub)
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("backup file: migrating to version %d: %w", version, err)
	}
	return nil
}

// InspectBackup reads a backup file's schema version and row counts.
func InspectBackup(ctx context.Context, path string) (*BackupContents, error) {
	return inspectBackup(ctx, path, BackupPace{})
}

// inspectBackup is InspectBackup counting each table's rows a chunk at a
// time within pace (a count of a whole table is one long burst of CPU).
func inspectBackup(ctx context.Context, path string, pace BackupPace) (*BackupContents, error) {
	c, err := openBackupFile(ctx, path, true)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := &BackupContents{}
	if out.SchemaVersion, err = fileVersion(ctx, c); err != nil {
		return nil, err
	}
	tables, err := backupTables(ctx, c)
	if err != nil {
		return nil, err
	}
	pc := pace.start()
	for _, t := range tables {
		n, err := countRows(ctx, c, t.name, pc)
		if err != nil {
			return nil, fmt.Errorf("backup file: counting %s: %w", t.name, err)
		}
		out.Tables = append(out.Tables, BackupTable{Name: t.name, Rows: n})
	}
	slices.SortFunc(out.Tables, func(a, b BackupTable) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// countChunk is how many rows countRows counts between two rests.
const countChunk = 16384

// countRows counts table's rows in rowid order, countChunk at a time,
// resting within pc's pace after each chunk (every netkeep table has a
// rowid).
func countRows(ctx context.Context, c *sql.DB, table string, pc *pacer) (int64, error) {
	q := `SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM (SELECT rowid FROM ` + quoteIdent(table) +
		` WHERE rowid > ? ORDER BY rowid LIMIT ` + strconv.Itoa(countChunk) + `)`
	var total, after int64
	for {
		var n, last int64
		if err := c.QueryRowContext(ctx, q, after).Scan(&n, &last); err != nil {
			return 0, err
		}
		total, after = total+n, last
		if n < countChunk {
			return total, nil
		}
		if err := pc.rest(ctx); err != nil {
			return 0, err
		}
	}
}

func fileVersion(ctx context.Context, c *sql.DB) (int64, error) {
	var v int64
	err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+backupVersionTable+` WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("not a netkeep backup (no schema version): %w", err)
	}
	return v, nil
}

// Restore replaces the contents of tables (nil: every table) with the
// backup's, atomically, and writes entry (when not nil) in the same
// transaction. Errors: a backup of a newer schema, an unknown table, and an
// invalid fault for a restore that would break a foreign key or a unique
// key (nothing changes then).
func (db *DB) Restore(ctx context.Context, path string, tables []string, entry *audit.Entry) error {
	current, err := db.currentVersion(ctx)
	if err != nil {
		return err
	}
	info, err := InspectBackup(ctx, path)
	if err != nil {
		return err
	}
	switch {
	case info.SchemaVersion > current:
		return fmt.Errorf("the backup's schema (version %d) is newer than this netkeep's (%d): restore it with a newer netkeep", info.SchemaVersion, current)
	case info.SchemaVersion < current:
		// Migrate a copy, never the backup itself.
		tmp, err := os.CreateTemp("", "netkeep-restore-*.db")
		if err != nil {
			return err
		}
		tmp.Close()
		os.Remove(tmp.Name())
		defer os.Remove(tmp.Name())
		if err := copyBackupFile(ctx, path, tmp.Name()); err != nil {
			return err
		}
		c, err := openBackupFile(ctx, tmp.Name(), false)
		if err != nil {
			return err
		}
		err = migrateBackupFile(ctx, c, current)
		c.Close()
		if err != nil {
			return err
		}
		path = tmp.Name()
	}
	src, err := openBackupFile(ctx, path, true)
	if err != nil {
		return err
	}
	defer src.Close()
	all, err := backupTables(ctx, src)
	if err != nil {
		return err
	}
	chosen := all
	if tables != nil {
		chosen = nil
		for _, t := range all {
			if slices.Contains(tables, t.name) {
				chosen = append(chosen, t)
			}
		}
		for _, name := range tables {
			if !slices.ContainsFunc(chosen, func(t backupTable) bool { return t.name == name }) {
				return fmt.Errorf("the backup has no table %q", name)
			}
		}
	}
	return db.restoreTables(ctx, src, chosen, entry)
}

// copyBackupFile copies a backup file with VACUUM INTO.
func copyBackupFile(ctx context.Context, from, to string) error {
	c, err := openBackupFile(ctx, from, true)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ExecContext(ctx, `VACUUM INTO ?`, to)
	return err
}

func (db *DB) currentVersion(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, wrap(err, "reading the schema version")
	}
	return v, nil
}
