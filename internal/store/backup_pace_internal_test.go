package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"netkeep/internal/backup"
)

// A step's pause keeps the copy at Share of a core; no pacing without a
// share below one.
func TestBackupPacePause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pace   BackupPace
		worked time.Duration
		want   time.Duration
	}{
		{"quarter of a core: three times the work", BackupPace{StepPages: 256, Share: 0.25}, 10 * time.Millisecond, 30 * time.Millisecond},
		{"half a core: as long as the work", BackupPace{Share: 0.5}, 4 * time.Millisecond, 4 * time.Millisecond},
		{"whole core: no pause", BackupPace{Share: 1}, time.Second, 0},
		{"zero value: no pause", BackupPace{}, time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.pace.pause(tc.worked); got != tc.want {
				t.Fatalf("pause(%s) = %s, want %s", tc.worked, got, tc.want)
			}
		})
	}
}

// countRows counts across chunk boundaries (a table of more than one chunk,
// with gaps in its rowids), and the checksum is the file's size and SHA-256,
// both within a pace that rests between chunks.
func TestPacedCountAndDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "count.db")
	c, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const rows = countChunk*2 + 17
	if _, err := c.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < `+strconv.Itoa(rows+100)+`)
		INSERT INTO t SELECT i*3, 'x' FROM n;
		DELETE FROM t WHERE id % 7 = 0 AND id <= 2100`); err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	pace := BackupPace{Share: 0.5}
	got, err := countRows(ctx, c, "t", pace.start())
	if err != nil || got != want || want <= countChunk*2 {
		t.Fatalf("countRows = %d, %v; want %d (> two chunks)", got, err, want)
	}
	_ = c.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	size, hexSum, err := backup.Checksum(ctx, path, pace.start().rest)
	if err != nil || size != int64(len(raw)) || hexSum != hex.EncodeToString(sum[:]) {
		t.Fatalf("checksum = %d %s %v; want %d %x", size, hexSum, err, len(raw), sum)
	}
}
