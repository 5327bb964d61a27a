package store_test

import (
	"context"
	"crypto/sha256"
	"embed"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"netkeep/internal/apikey"
	"netkeep/internal/config"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// TestAPIKeyFormatsMigration checks that keys stored before key formats
// existed come out of migration 00012 as nk_ keys whose scope names are
// their grants, so they keep working and are echoed back as before.
func TestAPIKeyFormatsMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
		if db.Kind == config.Postgres {
			dialect, dir = goose.DialectPostgres, "migrations/postgres"
		}
		sub, err := fs.Sub(migrationFiles, dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(dialect, db.SQL(), sub)
		if err != nil {
			t.Fatal(err)
		}
		u := apiKeyOwner(t, db, "old")
		if _, err := p.DownTo(ctx, 11); err != nil {
			t.Fatal(err)
		}
		hash := sha256.Sum256([]byte("nk_old"))
		_, err = db.SQL().ExecContext(ctx, `INSERT INTO api_keys
			(id, name, prefix, hash, scopes, group_id, created_by, rate_per_hour, rate_per_minute, created_at)
			VALUES ('key_0000000000000001', 'old', 'nk_abcdefg', $1, 'psks:read psks:write', $2, $3, 1000, 100, $4)`,
			hash[:], u.GroupID, u.ID, time.Now().UTC())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := db.Read().APIKeyByHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if got.Format != apikey.FormatNetKey || fmt.Sprint(got.Scopes) != "[psks:read psks:write]" || fmt.Sprint(got.Grants) != "[psks:read psks:write]" {
			t.Fatalf("migrated key: format %q, scopes %v, grants %v", got.Format, got.Scopes, got.Grants)
		}
	})
}
