// Package store is netkeep's persistence: database/sql over SQLite
// (modernc.org/sqlite) or PostgreSQL (pgx). One SQL text with $N placeholders
// serves both; DDL is per dialect in embedded goose migrations. Entity methods
// live on *Tx (one file per entity) so a domain operation that touches several
// tables, and its audit entry, commit or roll back as one.
//
// store imports domain packages for their types; domain packages never import
// store. It contains no HTTP.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"netkeep/internal/config"
)

// Querier is what entity methods run their SQL on: a transaction or a pool.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. On SQLite, writes go through a single connection
// (SQLite has one writer; serialising in Go avoids SQLITE_BUSY) while reads use
// a pool; on PostgreSQL both are the same pool.
type DB struct {
	Kind  config.DatabaseKind
	write *sql.DB
	read  *sql.DB
	path  string // SQLite: the database file
	dsn   string // as given to Open (a backup child opens the same)
}

// Open connects to the database of the given kind; it does not migrate.
// For SQLite, dsn is a file path whose directory must exist.
func Open(ctx context.Context, kind config.DatabaseKind, dsn string) (*DB, error) {
	switch kind {
	case config.SQLite:
		return openSQLite(ctx, dsn)
	case config.Postgres:
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("unknown database kind %q", kind)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("database directory %s does not exist", dir)
	}
	base := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// The writer pinged first so WAL mode is set before readers open.
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)"+fmt.Sprintf("&_pragma=cache_size(-%d)", readerCacheKiB))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &DB{Kind: config.SQLite, write: w, read: r, path: path, dsn: path}, nil
}

// readerCacheKiB is the page cache of each SQLite reader connection, in
// KiB (cache_size takes a negative number for KiB), a quarter of SQLite's
// default of 2,000 KiB: each of the eight readers keeps its own, and under
// modernc's allocator a cached page (4 KiB plus a header) occupies 8 KiB,
// so at the default they could hold about 29 MiB resident of pages the OS
// caches anyway. Reads are indexed lookups and pages of at most a thousand
// rows, whose working set fits; a scan of a large table misses in a cache
// of any size (bench/psk's BenchmarkList did not slow down). The writer
// keeps the default: bulk writes larger than its cache spill to the WAL,
// and at 1,024 KiB BenchmarkBulkCreate took twice as long.
const readerCacheKiB = 512

func openPostgres(ctx context.Context, url string) (*DB, error) {
	p, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("database-url: %w", err)
	}
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(16)
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return &DB{Kind: config.Postgres, write: p, read: p, dsn: url}, nil
}

// Close closes every connection.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Size is how much storage the database takes: the SQLite file with its
// write-ahead log, or the PostgreSQL database.
func (db *DB) Size(ctx context.Context) (int64, error) {
	if db.Kind == config.Postgres {
		var n int64
		err := db.read.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n)
		return n, wrap(err, "reading the database size")
	}
	var n int64
	for _, p := range []string{db.path, db.path + "-wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n, nil
}

// Tx is a database transaction; entity methods hang off it.
type Tx struct {
	q     Querier
	kind  config.DatabaseKind
	stmts map[string]*sql.Stmt // prepared on q when it is a transaction; see prepared
	conn  *sql.Conn            // PostgreSQL: the connection q runs on; see copyFrom
}

// InTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise (also on panic, which is re-raised).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	// On PostgreSQL the transaction runs on a connection held apart, so
	// that COPY (copyFrom) can reach its pgx connection inside it.
	var conn *sql.Conn
	if db.Kind == config.Postgres {
		if conn, err = db.write.Conn(ctx); err != nil {
			return fmt.Errorf("beginning transaction: %w", err)
		}
		defer conn.Close()
	}
	var stx *sql.Tx
	if conn != nil {
		stx, err = conn.BeginTx(ctx, nil)
	} else {
		stx, err = db.write.BeginTx(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
			return
		}
		if cerr := stx.Commit(); cerr != nil {
			err = fmt.Errorf("committing: %w", cerr)
		}
	}()
	return fn(&Tx{q: stx, kind: db.Kind, conn: conn})
}

// Holds reports whether Hold may keep a write transaction open across
// calls without stopping other writers: on PostgreSQL (row locks), not on
// SQLite, whose one writer would stop every other write meanwhile.
func (db *DB) Holds() bool { return db.Kind == config.Postgres }

// Hold begins a write transaction that stays open until end is called:
// end(nil) commits it, end(err) rolls it back and returns err. It is for
// work spread over calls that must be all or nothing, such as a large
// import written while its upload is read. Cancelling ctx rolls it back.
// Only where Holds is true.
func (db *DB) Hold(ctx context.Context) (tx *Tx, end func(error) error, err error) {
	if !db.Holds() {
		return nil, nil, errors.New("this database cannot hold a write transaction open")
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("beginning transaction: %w", err)
	}
	stx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("beginning transaction: %w", err)
	}
	end = func(err error) error {
		defer conn.Close()
		if err != nil {
			_ = stx.Rollback()
			return err
		}
		if err := stx.Commit(); err != nil {
			return fmt.Errorf("committing: %w", err)
		}
		return nil
	}
	return &Tx{q: stx, kind: db.Kind, conn: conn}, end, nil
}

// Read returns a Tx-shaped view over the read pool for lookups that need no
// transaction. Its writes are not allowed on SQLite (read-only connections).
func (db *DB) Read() *Tx { return &Tx{q: db.read, kind: db.Kind} }

// SQL exposes the write pool for the migrator and tests.
func (db *DB) SQL() *sql.DB { return db.write }
