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

// migrationsOf is the migration provider of db's engine, over the
// embedded migrations.
func migrationsOf(tb testing.TB, db *store.DB) *goose.Provider {
	tb.Helper()
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	if db.Kind == config.Postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := goose.NewProvider(dialect, db.SQL(), sub)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestAPIKeyFormatsMigration checks that keys stored before key formats
// existed come out of migration 00012 as nk_ keys whose scope names are
// their grants, so they keep working and are echoed back as before.
func TestAPIKeyFormatsMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := migrationsOf(t, db)
		u := apiKeyOwner(t, db, "old")
		if _, err := p.DownTo(ctx, 11); err != nil {
			t.Fatal(err)
		}
		hash := sha256.Sum256([]byte("nk_old"))
		_, err := db.SQL().ExecContext(ctx, `INSERT INTO api_keys
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

// TestAPIKeyProvisionedByMigration checks that keys an administrator
// created for a user before migration 00036 take that administrator from
// their creation's audit entry, and other keys nobody.
func TestAPIKeyProvisionedByMigration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := migrationsOf(t, db)
		u := apiKeyOwner(t, db, "provisioned")
		if _, err := p.DownTo(ctx, 35); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for i, details := range []string{`{"name":"for","provisioned_by":4242}`, `{"name":"own"}`} {
			id := fmt.Sprintf("key_000000000000000%d", i)
			hash := sha256.Sum256([]byte(id))
			if _, err := db.SQL().ExecContext(ctx, `INSERT INTO api_keys
				(id, name, prefix, hash, scopes, group_id, created_by, rate_per_hour, rate_per_minute, created_at)
				VALUES ($1, 'k', 'gk_abcdefg', $2, 'psks:read', $3, $4, 1000, 100, $5)`,
				id, hash[:], u.GroupID, u.ID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().ExecContext(ctx, `INSERT INTO audit_log (group_id, actor, action, target, details, ip, created_at)
				VALUES ($1, 'user:1', 'apikey.create', $2, $3, '', $4)`, u.GroupID, "apikey:"+id, details, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int64{"key_0000000000000000": 4242, "key_0000000000000001": 0} {
			got, err := db.Read().APIKeyByID(ctx, id)
			if err != nil || got.ProvisionedBy != want {
				t.Fatalf("%s: %+v, %v, want provisioned by %d", id, got, err, want)
			}
		}
	})
}
