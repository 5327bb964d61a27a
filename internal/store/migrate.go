package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"netkeep/internal/config"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// advisoryLockID serialises migrations across replicas sharing one PostgreSQL.
const advisoryLockID = 0x6e6b6d67 // "nkmg"

func (db *DB) provider() (*goose.Provider, error) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	if db.Kind == config.Postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.write, sub)
}

// Migrate applies every pending migration and returns the schema version.
// It is idempotent and safe to run from several replicas at once.
//
// On PostgreSQL a session advisory lock, taken with a blocking
// pg_advisory_lock on a connection of its own, serialises replicas: the next
// one proceeds the moment the first releases (goose's own locker polls every
// few seconds).
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("preparing migrations: %w", err)
	}
	if db.Kind == config.Postgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return 0, wrap(err, "migrating")
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, advisoryLockID); err != nil {
			return 0, fmt.Errorf("taking the migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, advisoryLockID)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrating: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// SchemaCurrent reports whether every embedded migration has been applied.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, wrap(err, "reading schema current")
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, wrap(err, "reading schema current")
	}
	return !pending, nil
}

// MigrateTo applies the pending migrations up to version and returns the
// schema version: a database at an older netkeep's schema (tests of
// restoring old backups use it).
func (db *DB) MigrateTo(ctx context.Context, version int64) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("preparing migrations: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return 0, fmt.Errorf("migrating: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// SchemaVersion returns the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) { return db.currentVersion(ctx) }
