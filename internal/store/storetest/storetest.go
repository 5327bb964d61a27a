// Package storetest opens real, migrated, throw-away databases for tests: a
// SQLite file in a temporary directory always, and a fresh PostgreSQL schema
// when NETKEEP_TEST_POSTGRES_URL is set. Each call gets its own database or
// schema, so tests may run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/store"
)

// PostgresEnv names the variable holding the test PostgreSQL URL.
const PostgresEnv = "NETKEEP_TEST_POSTGRES_URL"

// Kinds returns the database kinds to test on here.
func Kinds() []config.DatabaseKind {
	if os.Getenv(PostgresEnv) != "" {
		return []config.DatabaseKind{config.SQLite, config.Postgres}
	}
	return []config.DatabaseKind{config.SQLite}
}

// Each runs fn as a subtest once per database kind, each with a fresh,
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, k := range Kinds() {
		t.Run(string(k), func(t *testing.T) {
			fn(t, Open(t, k))
		})
	}
}

// Open returns a fresh migrated database of kind, closed at test end.
func Open(tb testing.TB, kind config.DatabaseKind) *store.DB {
	tb.Helper()
	_, dsn := DSN(tb, kind)
	db, err := store.Open(context.Background(), kind, dsn)
	if err != nil {
		tb.Fatalf("opening %s: %v", kind, err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrating %s: %v", kind, err)
	}
	return db
}

// DSN prepares an empty database of kind and returns its config.DatabaseURL
// form and driver DSN. For PostgreSQL it creates a schema dropped at test end.
func DSN(tb testing.TB, kind config.DatabaseKind) (databaseURL, dsn string) {
	tb.Helper()
	if kind == config.SQLite {
		p := filepath.Join(tb.TempDir(), "netkeep.db")
		return "sqlite:" + p, p
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skipf("%s not set: PostgreSQL tests need it", PostgresEnv)
	}
	schema := "t_" + randHex(8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("creating schema: %v", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprint("crypto/rand: ", err))
	}
	return hex.EncodeToString(b)
}
