package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"netkeep/internal/fault"
)

// classify turns driver errors a caller can act on into fault errors:
// no rows → not_found (with notFound's message), unique violations → conflict.
func classify(err error, notFound, conflict string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fault.New(fault.NotFound, notFound)
	case isUniqueViolation(err):
		return fault.New(fault.Conflict, conflict).Wrap(err)
	}
	return err
}

func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	// modernc reports SQLITE_CONSTRAINT_UNIQUE (2067) and PRIMARYKEY (1555)
	// with this text.
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "PRIMARY KEY")
}

// nullable maps a nil or zero time to SQL NULL; times are stored in UTC.
func nullable(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC()
}

// timePtr is the inverse of nullable for scanned values.
func timePtr(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

// mustAffect turns "no row changed" into not_found.
func mustAffect(res sql.Result, notFound string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.New(fault.NotFound, notFound)
	}
	return nil
}

// pageLimit is the LIMIT for a page of n rows, where n <= 0 means every
// row: both dialects take a bound, not "no limit".
func pageLimit(n int) int {
	if n <= 0 {
		return 1<<31 - 1
	}
	return n
}

func conflict(msg string) error { return fault.New(fault.Conflict, msg) }

// wrap names the store operation (and its subject, when given) that err
// came from, so a logged error says what broke; nil stays nil. The fault
// code and message of a classified error survive (errors.As sees through).
func wrap(err error, op string, subject ...any) error {
	if err == nil {
		return nil
	}
	if len(subject) > 0 {
		return fmt.Errorf("%s %v: %w", op, subject[0], err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
