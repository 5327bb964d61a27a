package store_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"netkeep/internal/backup"
	"netkeep/internal/config"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// seedBackupData writes rows into tables of every kind of column (ids,
// text keys, booleans, blobs, timestamps, NULLs, foreign keys) with plain
// SQL, the same on both engines.
func seedBackupData(tb testing.TB, db *store.DB, tag string) {
	tb.Helper()
	now := time.Date(2026, 12, 7, 10, 30, 15, 123456000, time.UTC)
	exec := func(q string, args ...any) {
		tb.Helper()
		if _, err := db.SQL().Exec(q, args...); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO groups (name, created_at) VALUES ($1, $2)`, "acme-"+tag, now)
	var gid int64
	if err := db.SQL().QueryRow(`SELECT id FROM groups WHERE name = $1`, "acme-"+tag).Scan(&gid); err != nil {
		tb.Fatal(err)
	}
	exec(`INSERT INTO users (username, email, role, group_id, password_hash, mfa_secret, is_active, last_login, created_at, updated_at)
		VALUES ($1, $2, 'GROUP_ADMIN', $3, 'argon2id$x', $4, $5, NULL, $6, $6)`, "alice-"+tag, "alice-"+tag+"@x.test", gid, []byte{0, 1, 2, 255}, true, now)
	exec(`INSERT INTO users (username, role, group_id, password_hash, is_active, last_login, created_at, updated_at)
		VALUES ($1, 'USER', $2, 'argon2id$y', $3, $4, $4, $4)`, "bob-"+tag, gid, false, now)
	var uid int64
	if err := db.SQL().QueryRow(`SELECT id FROM users WHERE username = $1`, "alice-"+tag).Scan(&uid); err != nil {
		tb.Fatal(err)
	}
	for i := range 3 {
		exec(`INSERT INTO psks (group_id, psk_id, passphrase, seal_id, description, vlan_id, enabled, expires_at, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			gid, fmt.Sprintf("room-%d-%s", i, tag), []byte("sealed-"+tag), "seal"+tag+fmt.Sprint(i), "it's \"quoted\"", 100+i, i%2 == 0, now.Add(time.Duration(i)*time.Hour), uid, now)
	}
	var pskID int64
	if err := db.SQL().QueryRow(`SELECT MIN(id) FROM psks WHERE group_id = $1`, gid).Scan(&pskID); err != nil {
		tb.Fatal(err)
	}
	exec(`INSERT INTO endpoints (group_id, mac, psk_id, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		gid, "aa:bb:cc:dd:ee:0"+fmt.Sprint(len(tag)%10), pskID, true, now)
	hash := make([]byte, 32)
	copy(hash, tag)
	exec(`INSERT INTO api_keys (id, name, prefix, hash, scopes, group_id, created_by, rate_per_hour, rate_per_minute, created_at)
		VALUES ($1, 'ci', 'nk_', $2, 'psk:read', $3, $4, 100, 10, $5)`, "key-"+tag, hash, gid, uid, now)
	exec(`INSERT INTO audit_log (group_id, actor, action, target, details, ip, created_at) VALUES ($1, 'test', 'seed', 'x', '{}', '127.0.0.1', $2)`, gid, now)
	// An empty blob in a NOT NULL column (the driver reads it back as nil).
	exec(`INSERT INTO radius_clients (group_id, name, address, secret, vendor, mac_password_sealed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'generic', $5, $6, $6)`, gid, "ap-"+tag, "10.9."+fmt.Sprint(len(tag))+".1", []byte("sealed"), []byte{}, now)
}

// dump renders every table's rows in a form both engines agree on,
// ordered, so two databases with the same contents dump the same.
func dump(tb testing.TB, db *store.DB, tables []string) map[string][]string {
	tb.Helper()
	return dumpColumns(tb, db, tables, nil)
}

// columnsOf returns each table's columns in db.
func columnsOf(tb testing.TB, db *store.DB, tables []string) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, t := range tables {
		rows, err := db.SQL().Query(`SELECT * FROM ` + t + ` LIMIT 0`)
		if err != nil {
			tb.Fatalf("columns of %s: %v", t, err)
		}
		out[t], _ = rows.Columns()
		rows.Close()
	}
	return out
}

// dumpColumns is dump reading only the columns cols names for a table
// (every column of a table it does not name).
func dumpColumns(tb testing.TB, db *store.DB, tables []string, cols map[string][]string) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, t := range tables {
		sel := "*"
		if c := cols[t]; len(c) > 0 {
			sel = `"` + strings.Join(c, `", "`) + `"`
		}
		rows, err := db.SQL().Query(`SELECT ` + sel + ` FROM ` + t)
		if err != nil {
			tb.Fatalf("dumping %s: %v", t, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			parts := make([]string, len(cols))
			for i, v := range vals {
				parts[i] = cols[i] + "=" + normalize(v)
			}
			slices.Sort(parts) // column order may differ between engines
			lines = append(lines, strings.Join(parts, " "))
		}
		rows.Close()
		slices.Sort(lines)
		out[t] = lines
	}
	return out
}

func normalize(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case []byte:
		return "x" + hex.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}

func tableNames(c *store.BackupContents) []string {
	var out []string
	for _, t := range c.Tables {
		out = append(out, t.Name)
	}
	return out
}

func equalDumps(tb testing.TB, what string, got, want map[string][]string) {
	tb.Helper()
	for t, w := range want {
		if g := got[t]; !slices.Equal(g, w) {
			tb.Fatalf("%s: table %s differs:\n got %q\nwant %q", what, t, g, w)
		}
	}
}

// A backup restored into a fresh database of either engine holds exactly
// what the source held, table by table; ids continue after the restored
// ones.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, from := range storetest.Kinds() {
		for _, to := range storetest.Kinds() {
			t.Run(string(from)+"_to_"+string(to), func(t *testing.T) {
				src := storetest.Open(t, from)
				seedBackupData(t, src, "a")
				path := filepath.Join(t.TempDir(), "backup.db")
				contents, err := src.Backup(ctx, path, store.DefaultBackupPace)
				if err != nil {
					t.Fatal(err)
				}
				current, _ := src.SchemaCurrent(ctx)
				if !current || contents.SchemaVersion == 0 {
					t.Fatalf("backup schema version %d", contents.SchemaVersion)
				}
				counts := map[string]int64{}
				for _, tb := range contents.Tables {
					counts[tb.Name] = tb.Rows
				}
				if counts["psks"] != 3 || counts["users"] != 2 || counts["groups"] != 2 || counts["api_keys"] != 1 {
					t.Fatalf("backup counts %v", counts)
				}
				if _, err := src.Backup(ctx, path, store.DefaultBackupPace); err == nil {
					t.Fatal("a backup overwrote an existing file")
				}

				dst := storetest.Open(t, to)
				seedBackupData(t, dst, "other") // replaced by the restore
				if err := dst.Restore(ctx, path, nil, nil); err != nil {
					t.Fatal(err)
				}
				tables := tableNames(contents)
				equalDumps(t, "full restore", dump(t, dst, tables), dump(t, src, tables))

				// New rows get ids past the restored ones.
				var maxID, newID int64
				if err := dst.SQL().QueryRow(`SELECT MAX(id) FROM groups`).Scan(&maxID); err != nil {
					t.Fatal(err)
				}
				if err := dst.SQL().QueryRow(`INSERT INTO groups (name, created_at) VALUES ('after', $1) RETURNING id`, time.Now()).Scan(&newID); err != nil {
					t.Fatalf("insert after restore: %v", err)
				}
				if newID <= maxID {
					t.Fatalf("new id %d not past the restored %d", newID, maxID)
				}
			})
		}
	}
}

// A restore of some tables replaces exactly those, keeping the rest; one
// that would break a reference fails and changes nothing; a backup of a
// newer schema is refused, an unknown table too.
func TestRestoreTablesAtomically(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedBackupData(t, db, "a")
		path := filepath.Join(t.TempDir(), "backup.db")
		contents, err := db.Backup(ctx, path, store.DefaultBackupPace)
		if err != nil {
			t.Fatal(err)
		}
		tables := tableNames(contents)
		before := dump(t, db, tables)

		// Change PSKs and users after the backup.
		if _, err := db.SQL().Exec(`DELETE FROM endpoints`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(`UPDATE psks SET description = 'changed'`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(`UPDATE users SET full_name = 'Renamed'`); err != nil {
			t.Fatal(err)
		}
		if err := db.Restore(ctx, path, []string{"psks", "endpoints"}, nil); err != nil {
			t.Fatal(err)
		}
		after := dump(t, db, tables)
		equalDumps(t, "restored tables", map[string][]string{"psks": after["psks"], "endpoints": after["endpoints"]},
			map[string][]string{"psks": before["psks"], "endpoints": before["endpoints"]})
		if !strings.Contains(strings.Join(after["users"], "\n"), "full_name=Renamed") {
			t.Fatal("a table outside the restore changed")
		}

		// Endpoints whose PSKs are gone cannot come back alone.
		if _, err := db.SQL().Exec(`DELETE FROM psks`); err != nil {
			t.Fatal(err)
		}
		mid := dump(t, db, tables)
		if err := db.Restore(ctx, path, []string{"endpoints"}, nil); err == nil {
			t.Fatal("a restore breaking a foreign key succeeded")
		}
		equalDumps(t, "failed restore", dump(t, db, tables), mid)

		if err := db.Restore(ctx, path, []string{"no_such_table"}, nil); err == nil {
			t.Fatal("unknown table accepted")
		}

		// A backup from a newer netkeep is refused.
		newer := filepath.Join(t.TempDir(), "newer.db")
		if _, err := db.Backup(ctx, newer, store.BackupPace{}); err != nil {
			t.Fatal(err)
		}
		c, err := sql.Open("sqlite", newer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if err := db.Restore(ctx, newer, nil, nil); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("newer backup: %v", err)
		}
		equalDumps(t, "refused restore", dump(t, db, tables), mid)
	})
}

// A backup of an older schema is migrated (a copy of it) and restored;
// the backup file itself is not changed.
func TestRestoreOlderSchema(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dst *store.DB) {
		ctx := context.Background()
		current, err := dst.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, dsn := storetest.DSN(t, config.SQLite)
		old, err := store.Open(ctx, config.SQLite, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		// The migration before the newest (numbers may skip).
		older, err := old.MigrateTo(ctx, current-1)
		if err != nil || older >= current || older == 0 {
			t.Fatalf("migrating below %d: %d %v", current, older, err)
		}
		seedBackupData(t, old, "a")
		path := filepath.Join(t.TempDir(), "backup.db")
		contents, err := old.Backup(ctx, path, store.DefaultBackupPace)
		if err != nil || contents.SchemaVersion != older {
			t.Fatalf("old backup: %+v %v", contents, err)
		}
		if err := dst.Restore(ctx, path, nil, nil); err != nil {
			t.Fatal(err)
		}
		seeded := []string{"groups", "users", "psks", "endpoints", "api_keys", "audit_log"}
		// A column the newest migration adds holds its default: compared are
		// the columns the backup had.
		equalDumps(t, "older backup", dumpColumns(t, dst, seeded, columnsOf(t, old, seeded)), dump(t, old, seeded))
		again, err := store.InspectBackup(ctx, path)
		if err != nil || again.SchemaVersion != older {
			t.Fatalf("the backup file was changed: %+v %v", again, err)
		}
	})
}

// Every table of the schema is restored with exactly one facet, or is
// volatile (copied, never restored): a new table fails this test until it
// is given its place.
func TestEveryTableHasAFacet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, config.SQLite)
	contents, err := db.Backup(ctx, filepath.Join(t.TempDir(), "b.db"), store.BackupPace{})
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{}
	for _, f := range backup.Facets() {
		for _, tbl := range f.Tables() {
			if prev, dup := owner[tbl]; dup {
				t.Errorf("table %s is in facets %s and %s", tbl, prev, f)
			}
			owner[tbl] = string(f)
		}
	}
	for _, tbl := range backup.Volatile {
		if prev, dup := owner[tbl]; dup {
			t.Errorf("table %s is volatile and in facet %s", tbl, prev)
		}
		owner[tbl] = "volatile"
	}
	inSchema := map[string]bool{}
	for _, tbl := range contents.Tables {
		inSchema[tbl.Name] = true
		if owner[tbl.Name] == "" {
			t.Errorf("table %s belongs to no backup facet (internal/backup/restore.go) and is not volatile", tbl.Name)
		}
	}
	for tbl := range owner {
		if !inSchema[tbl] {
			t.Errorf("backup facet table %s is not in the schema", tbl)
		}
	}
}
