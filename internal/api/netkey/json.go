package netkey

import (
	"time"
)

// timestamp renders t as NetKey does: RFC 3339 in UTC to the second.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// optionalTime is timestamp for a typed response field: nil stays null.
func optionalTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}
