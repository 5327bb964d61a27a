package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"netkeep/internal/config"
	"netkeep/internal/store"
)

// openDB opens a fresh migrated database: SQLite in a temporary directory,
// or a new schema of the PostgreSQL at pgURL. The returned func removes it.
func openDB(ctx context.Context, kind, pgURL string) (*store.DB, string, func(), error) {
	if kind == "sqlite" {
		dir, err := os.MkdirTemp("", "netkeep-bench-")
		if err != nil {
			return nil, "", nil, err
		}
		db, err := store.Open(ctx, config.SQLite, filepath.Join(dir, "netkeep.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, "", nil, err
		}
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			os.RemoveAll(dir)
			return nil, "", nil, err
		}
		return db, dir, func() { db.Close(); os.RemoveAll(dir) }, nil
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return nil, "", nil, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, "", nil, fmt.Errorf("creating schema: %w", err)
	}
	drop := func() {
		if a, err := sql.Open("pgx", pgURL); err == nil {
			_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
			a.Close()
		}
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, config.Postgres, u.String())
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		drop()
		return nil, "", nil, err
	}
	dir, _ := os.MkdirTemp("", "netkeep-bench-")
	return db, dir, func() { db.Close(); drop(); os.RemoveAll(dir) }, nil
}
