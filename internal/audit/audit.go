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
	// Actor matches the actor as recorded ("user:5", "device:dev-1") or,
	// as Nekzus clients filter, a bare user or device id ("5", "dev-1").
	Actor  string
	Limit  int
	Offset int
}

// Source says who acts and from where; transports build it per request.
type Source struct {
	Actor string
	IP    string
}

// Record writes an entry through w. details is marshalled to JSON (nil → {}).
// It must never be given secrets.
func Record(ctx context.Context, w Writer, src Source, groupID int64, action, target string, details any) error {
	e, err := NewEntry(src, groupID, action, target, details)
	if err != nil {
		return err
	}
	if err := w.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("recording audit %s: %w", action, err)
	}
	return nil
}

// NewEntry builds the entry Record would write, for RecordAll.
func NewEntry(src Source, groupID int64, action, target string, details any) (*Entry, error) {
	d := "{}"
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return nil, fmt.Errorf("encoding audit details: %w", err)
		}
		d = string(b)
	}
	actor := src.Actor
	if actor == "" {
		actor = "system"
	}
	return &Entry{GroupID: groupID, Actor: actor, Action: action, Target: target, Details: d, IP: src.IP, Time: time.Now().UTC()}, nil
}

// BatchWriter stores many entries at once (multi-row inserts); a store
// transaction implements it. It need not set the entries' IDs.
type BatchWriter interface {
	InsertAudits(ctx context.Context, es []*Entry) error
}

// RecordAll writes entries through w, in one batch when w is a
// BatchWriter (bulk operations record one entry per object, and one
// statement per entry dominated their cost), otherwise one by one.
func RecordAll(ctx context.Context, w Writer, es []*Entry) error {
	if len(es) == 0 {
		return nil
	}
	if bw, ok := w.(BatchWriter); ok {
		if err := bw.InsertAudits(ctx, es); err != nil {
			return fmt.Errorf("recording %d audit entries: %w", len(es), err)
		}
		return nil
	}
	for _, e := range es {
		if err := w.InsertAudit(ctx, e); err != nil {
			return fmt.Errorf("recording audit %s: %w", e.Action, err)
		}
	}
	return nil
}
