package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"netkeep/internal/config"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// advisoryLockID serialises migrations across replicas sharing one PostgreSQL.
const advisoryLockID = 0x6e6b6d67 // "nkmg"

func (db *DB) provider() (*goose.Provider, error) {
	var (
		dialect goose.Dialect
		dir     string
		opts    []goose.ProviderOption
	)
	switch db.Kind {
	case config.SQLite:
		dialect, dir = goose.DialectSQLite3, "migrations/sqlite"
	case config.Postgres:
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(advisoryLockID))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, db.write, sub, opts...)
}

// Migrate applies every pending migration and returns the schema version.
// It is idempotent and safe to run from several replicas at once.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("preparing migrations: %w", err)
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
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, err
	}
	return !pending, nil
}
