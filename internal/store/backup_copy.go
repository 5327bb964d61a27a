package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/fault"
)

// backupTable is a table as a backup file's schema describes it.
type backupTable struct {
	name    string
	cols    []string
	pk      []string // primary key columns, in key order
	parents []string // tables its foreign keys reference
}

// backupTables lists the netkeep tables of a SQLite database (a backup
// file), parents before children (by foreign keys), ties by name.
func backupTables(ctx context.Context, c *sql.DB) ([]backupTable, error) {
	rows, err := c.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name`, backupVersionTable)
	if err != nil {
		return nil, fmt.Errorf("backup file: listing tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	byName := map[string]*backupTable{}
	for _, n := range names {
		t := &backupTable{name: n}
		if err := describeTable(ctx, c, t); err != nil {
			return nil, err
		}
		byName[n] = t
	}
	// Kahn's algorithm over the foreign keys, alphabetical among equals.
	var out []backupTable
	done := map[string]bool{}
	for len(out) < len(names) {
		progressed := false
		for _, n := range names {
			t := byName[n]
			if done[n] || slices.ContainsFunc(t.parents, func(p string) bool { return p != n && !done[p] && byName[p] != nil }) {
				continue
			}
			out, done[n], progressed = append(out, *t), true, true
		}
		if !progressed {
			return nil, fmt.Errorf("backup file: the tables' foreign keys form a cycle")
		}
	}
	return out, nil
}

// describeTable reads t's columns, primary key and referenced tables.
func describeTable(ctx context.Context, c *sql.DB, t *backupTable) error {
	rows, err := c.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, t.name)
	if err != nil {
		return fmt.Errorf("backup file: describing %s: %w", t.name, err)
	}
	pk := map[int]string{}
	for rows.Next() {
		var col string
		var pos int
		if err := rows.Scan(&col, &pos); err != nil {
			rows.Close()
			return err
		}
		t.cols = append(t.cols, col)
		if pos > 0 {
			pk[pos] = col
		}
	}
	rows.Close()
	for i := 1; i <= len(pk); i++ {
		t.pk = append(t.pk, pk[i])
	}
	rows, err = c.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, t.name)
	if err != nil {
		return fmt.Errorf("backup file: reading %s's foreign keys: %w", t.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		t.parents = append(t.parents, p)
	}
	return rows.Err()
}

// quoteIdent quotes a table or column name (they come from the schema, but
// a name is never spliced into SQL unquoted).
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	return strings.Join(q, ", ")
}

// copyRows reads t's rows from src and inserts them into dst in batches;
// with conflict set, each insert is an upsert on t's primary key. convert,
// when set, adapts a row's values to dst's column types in place.
func copyRows(ctx context.Context, src, dst Querier, t backupTable, convert func([]any)) error {
	rows, err := src.QueryContext(ctx, `SELECT `+quoteList(t.cols)+` FROM `+quoteIdent(t.name))
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	defer rows.Close()
	return insertBatches(ctx, dst, config.SQLite, t, rows, convert, false)
}

// insertBatches inserts what rows yields (t's columns in order) into dst, a
// database of kind, several rows per statement, upserting on the primary
// key when upsert is set.
func insertBatches(ctx context.Context, dst Querier, kind config.DatabaseKind, t backupTable, rows *sql.Rows, convert func([]any), upsert bool) error {
	per := max(1, min(500, 30000/len(t.cols)))
	var args []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := dst.ExecContext(ctx, insertSQL(t, n, upsert, kind == config.Postgres), args...)
		args, n = args[:0], 0
		if err != nil {
			return fmt.Errorf("writing %s: %w", t.name, err)
		}
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(t.cols))
		ptrs := make([]any, len(t.cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading %s: %w", t.name, err)
		}
		for i, v := range vals {
			// An empty BLOB scans as a nil []byte, which would be written
			// back as NULL (app_icons.data is an empty NOT NULL blob for an
			// app without an icon); NULL itself scans as a nil any.
			if b, ok := v.([]byte); ok && b == nil {
				vals[i] = []byte{}
			}
		}
		if convert != nil {
			convert(vals)
		}
		args = append(args, vals...)
		if n++; n == per {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	return flush()
}

// insertSQL is a multi-row INSERT of n rows of t, as an upsert on t's
// primary key when upsert is set. Placeholders are $N for PostgreSQL and ?
// for SQLite: the SQLite driver looks each named parameter up by number in
// a list, which makes thousands of $N in one statement quadratic.
func insertSQL(t backupTable, n int, upsert, dollar bool) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + quoteIdent(t.name) + ` (` + quoteList(t.cols) + `) VALUES `)
	arg := 1
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range t.cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if dollar {
				fmt.Fprintf(&b, "$%d", arg)
			} else {
				b.WriteByte('?')
			}
			arg++
		}
		b.WriteByte(')')
	}
	if upsert && len(t.pk) > 0 {
		b.WriteString(` ON CONFLICT (` + quoteList(t.pk) + `) DO `)
		var set []string
		for _, c := range t.cols {
			if !slices.Contains(t.pk, c) {
				set = append(set, quoteIdent(c)+` = excluded.`+quoteIdent(c))
			}
		}
		if len(set) == 0 {
			b.WriteString(`NOTHING`)
		} else {
			b.WriteString(`UPDATE SET ` + strings.Join(set, ", "))
		}
	}
	return b.String()
}

// restoreTables replaces the contents of tables with src's in one
// transaction: first, children before parents, the rows src lacks are
// deleted (by primary key; a table without one is emptied); then, parents
// before children, src's rows are upserted.
func (db *DB) restoreTables(ctx context.Context, src *sql.DB, tables []backupTable, entry *audit.Entry) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(err, "starting the restore")
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	converters := map[string]func([]any){}
	for _, t := range tables {
		if converters[t.name], err = db.converter(ctx, tx, t); err != nil {
			return err
		}
	}
	for _, t := range slices.Backward(tables) {
		if err := deleteMissing(ctx, src, tx, db.Kind, t); err != nil {
			return restoreConstraint(err)
		}
	}
	for _, t := range tables {
		rows, err := src.QueryContext(ctx, `SELECT `+quoteList(t.cols)+` FROM `+quoteIdent(t.name))
		if err != nil {
			return fmt.Errorf("reading %s from the backup: %w", t.name, err)
		}
		err = insertBatches(ctx, tx, db.Kind, t, rows, converters[t.name], true)
		rows.Close()
		if err != nil {
			return restoreConstraint(err)
		}
	}
	if db.Kind == config.Postgres {
		for _, t := range tables {
			if err := resetIdentity(ctx, tx, t); err != nil {
				return err
			}
		}
	}
	if entry != nil {
		if err := (&Tx{q: tx, kind: db.Kind}).InsertAudit(ctx, entry); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return restoreConstraint(fmt.Errorf("committing the restore: %w", err))
	}
	return nil
}

// restoreConstraint turns a broken foreign or unique key into an invalid
// fault: the backup's rows for the chosen tables do not fit the rest of
// the database as it is now.
func restoreConstraint(err error) error {
	var pg *pgconn.PgError
	fk := strings.Contains(err.Error(), "FOREIGN KEY constraint failed") || (errors.As(err, &pg) && pg.Code == "23503")
	switch {
	case fk:
		return fault.New(fault.Invalid, "the restore would leave rows referring to data it does not restore (or removes); restore the facets they belong to as well").Wrap(err)
	case isUniqueViolation(err):
		return fault.New(fault.Invalid, "the restored rows clash with current rows on a unique value (a name or an address)").Wrap(err)
	}
	return err
}

// deleteMissing deletes t's rows whose primary key src lacks.
func deleteMissing(ctx context.Context, src *sql.DB, tx *sql.Tx, kind config.DatabaseKind, t backupTable) error {
	name := quoteIdent(t.name)
	if len(t.pk) == 0 {
		_, err := tx.ExecContext(ctx, `DELETE FROM `+name)
		return wrapRestore(err, "emptying", t.name)
	}
	keys := quoteList(t.pk)
	// One temporary table per restored table: pgx caches a statement's
	// parameter types by its text, so two tables' keys of different types
	// must not share an INSERT's text.
	keep := "nk_restore_keep_" + t.name
	create := `CREATE TEMP TABLE ` + quoteIdent(keep) + ` AS SELECT ` + keys + ` FROM ` + name + ` WHERE 1 = 0`
	if kind == config.Postgres {
		create = `CREATE TEMP TABLE ` + quoteIdent(keep) + ` ON COMMIT DROP AS SELECT ` + keys + ` FROM ` + name + ` WITH NO DATA`
	}
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return wrapRestore(err, "preparing", t.name)
	}
	rows, err := src.QueryContext(ctx, `SELECT `+keys+` FROM `+name)
	if err != nil {
		return wrapRestore(err, "reading the keys of", t.name)
	}
	err = insertBatches(ctx, tx, kind, backupTable{name: keep, cols: t.pk}, rows, nil, false)
	rows.Close()
	if err != nil {
		return err
	}
	match := keys
	if len(t.pk) > 1 {
		match = `(` + keys + `)`
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+name+` WHERE `+match+` NOT IN (SELECT `+keys+` FROM `+quoteIdent(keep)+`)`); err != nil {
		return wrapRestore(err, "deleting rows of", t.name)
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE `+quoteIdent(keep))
	return wrapRestore(err, "preparing", t.name)
}

func wrapRestore(err error, what, table string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("restore: %s %s: %w", what, table, err)
}

// converter adapts backup values (SQLite's) to this database's column
// types: PostgreSQL booleans arrive as SQLite's 0 and 1.
func (db *DB) converter(ctx context.Context, tx *sql.Tx, t backupTable) (func([]any), error) {
	if db.Kind != config.Postgres {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND data_type = 'boolean'`, t.name)
	if err != nil {
		return nil, wrap(err, "reading column types", t.name)
	}
	defer rows.Close()
	var idx []int
	for rows.Next() {
		var col string
		if err := rows.Scan(&col); err != nil {
			return nil, err
		}
		if i := slices.Index(t.cols, col); i >= 0 {
			idx = append(idx, i)
		}
	}
	if err := rows.Err(); err != nil || len(idx) == 0 {
		return nil, err
	}
	return func(vals []any) {
		for _, i := range idx {
			if n, ok := vals[i].(int64); ok {
				vals[i] = n != 0
			}
		}
	}, nil
}

// resetIdentity moves t's identity sequence past its largest id, so rows
// created after the restore do not collide with restored ones.
func resetIdentity(ctx context.Context, tx *sql.Tx, t backupTable) error {
	if !slices.Contains(t.cols, "id") {
		return nil
	}
	var identity string
	err := tx.QueryRowContext(ctx, `SELECT is_identity FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'`, t.name).Scan(&identity)
	if err != nil || identity != "YES" {
		return wrapRestore(ignoreNoRows(err), "reading the id column of", t.name) // text ids have no sequence
	}
	_, err = tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE((SELECT MAX(id) FROM `+quoteIdent(t.name)+`), 1),
		(SELECT MAX(id) FROM `+quoteIdent(t.name)+`) IS NOT NULL)`, t.name)
	return wrapRestore(err, "resetting the id sequence of", t.name)
}

func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
