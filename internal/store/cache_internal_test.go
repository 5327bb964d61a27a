package store

import (
	"path/filepath"
	"testing"

	"netkeep/internal/config"
)

// Every SQLite connection gets its bounded page cache: the readers' and
// the writer's, also on connections the pools open later.
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
	if w != -writerCacheKiB {
		t.Fatalf("writer cache_size %d, want %d", w, -writerCacheKiB)
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
