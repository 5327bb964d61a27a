package store

import (
	"path/filepath"
	"testing"

	"netkeep/internal/config"
)

// Every SQLite reader connection gets the bounded page cache, also those
// the pool opens later; the writer keeps SQLite's default.
func TestSQLitePageCacheSizes(t *testing.T) {
	db, err := Open(t.Context(), config.SQLite, filepath.Join(t.TempDir(), "netkeep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var w int
	if err := db.write.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&w); err != nil {
		t.Fatal(err)
	}
	if w != -2000 {
		t.Fatalf("writer cache_size %d, want SQLite's default -2000", w)
	}
	// Hold every reader at once so each one is asked.
	ctx := t.Context()
	for i := range 8 {
		c, err := db.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var r int
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&r); err != nil {
			t.Fatal(err)
		}
		if r != -readerCacheKiB {
			t.Fatalf("reader %d cache_size %d, want %d", i, r, -readerCacheKiB)
		}
	}
}
