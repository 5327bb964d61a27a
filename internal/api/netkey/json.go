package netkey

import (
	"time"
)

// timestamp renders t as NetKey does: RFC 3339 in UTC to the second.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTimestamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return timestamp(*t)
}
