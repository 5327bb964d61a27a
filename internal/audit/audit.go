// Package audit is netkeep's append-only record of every change to state: who
// (actor) did what (action) to which object (target), with details and the
// source address. Entries are written through the same transaction as the
// change they record, so a change and its entry commit or vanish together.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Entry is one audit record. GroupID is the group owning the target (0 for
// server-wide objects); listings are scoped by it.
type Entry struct {
	ID      int64
	GroupID int64
	Actor   string
	Action  string
	Target  string
	Details string // JSON text
	IP      string
	Time    time.Time
}

// Writer stores entries; a store transaction implements it.
type Writer interface {
	InsertAudit(ctx context.Context, e *Entry) error
}

// Query selects entries for a listing. A nil GroupID means every group
// (SUPER_ADMIN); otherwise only that group's entries.
type Query struct {
	GroupID *int64
	Action  string
	Actor   string
	Limit   int
	Offset  int
}

// Source says who acts and from where; transports build it per request.
type Source struct {
	Actor string
	IP    string
}

// Record writes an entry through w. details is marshalled to JSON (nil → {}).
// It must never be given secrets.
func Record(ctx context.Context, w Writer, src Source, groupID int64, action, target string, details any) error {
	d := "{}"
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("encoding audit details: %w", err)
		}
		d = string(b)
	}
	actor := src.Actor
	if actor == "" {
		actor = "system"
	}
	e := &Entry{GroupID: groupID, Actor: actor, Action: action, Target: target, Details: d, IP: src.IP, Time: time.Now().UTC()}
	if err := w.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("recording audit %s: %w", action, err)
	}
	return nil
}
