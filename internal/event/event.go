package event

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"netkeep/internal/fault"
)

// Event is one committed domain change.
//
// Data is shared by every subscriber that receives the event: treat it as
// read-only. It may be empty, and on other replicas it is empty when the
// encoded event did not fit a NOTIFY payload, so subscribers that need the
// object's details fetch them from the store by GroupID and ID.
type Event struct {
	Topic   string          `json:"topic"`          // e.g. "psk", "user", "node", "apikey"
	Action  string          `json:"action"`         // e.g. "created", "updated", "deleted", "expired"
	GroupID int64           `json:"group_id"`       // 0 for server-wide events
	ID      string          `json:"id"`             // the object's id as text
	Data    json.RawMessage `json:"data,omitempty"` // small payload, may be empty
	Origin  string          `json:"origin"`         // id of the replica that published (set by the bus)
	Time    time.Time       `json:"time"`           // set by the bus if zero
}

// The bus's own control events. TopicBus is reserved: Publish rejects it, and
// the bus delivers its events to every subscription whatever its topics, so a
// subscriber that filters on "psk" still learns that it must resynchronise.
const (
	TopicBus = "bus"
	// ActionResync means events may have been missed (a bus shared between
	// replicas lost its connection to the others and reconnected): reload
	// state from the store.
	ActionResync = "resync"
)

// Bus delivers events to subscribers. Publish is called after the change commits.
//
// Publish returns ErrClosed after Close, an Invalid fault for an event without
// a topic, with the reserved topic or with Data that is not JSON, and an
// Unavailable fault when other replicas could not be told.
//
// Origin is this replica's id, stamped on every event it publishes: a
// service that applies its own changes before publishing them skips the
// events whose Origin is its bus's, and applies the others'.
type Bus interface {
	Publish(ctx context.Context, e Event) error
	Subscribe(topics ...string) *Subscription // no topics = every topic
	Origin() string
	// Resync tells every subscription, on this replica and on every
	// other, to reload its state from the store (TopicBus, ActionResync):
	// the store changed underneath them, as a restore from a backup does.
	Resync(ctx context.Context) error
	Close() error
}

// ResyncEvent is the bus's resync event, stamped with origin.
func ResyncEvent(origin string) Event {
	return Event{Topic: TopicBus, Action: ActionResync, Origin: origin, Time: time.Now().UTC()}
}

// ErrClosed is returned by Publish after the bus was closed.
var ErrClosed = fault.New(fault.Unavailable, "event bus is closed")

// Stamp validates e and fills in the fields a bus owns: Origin, and Time when
// it is zero. Data is copied so a publisher reusing its buffer cannot change
// what subscribers see. Every Bus's Publish starts with it; it returns an
// Invalid fault for an event without a topic, with the reserved topic or
// with Data that is not JSON.
func Stamp(e Event, origin string) (Event, error) {
	switch {
	case e.Topic == "":
		return e, fault.New(fault.Invalid, "event has no topic")
	case e.Topic == TopicBus:
		return e, fault.Errorf(fault.Invalid, "event topic %q is reserved for the bus", TopicBus)
	case len(e.Data) > 0 && !json.Valid(e.Data):
		return e, fault.New(fault.Invalid, "event data is not valid JSON")
	}
	e.Origin = origin
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if len(e.Data) > 0 {
		e.Data = append(json.RawMessage(nil), e.Data...)
	}
	return e, nil
}

// newOrigin returns a random replica id; collisions would make a replica ignore
// another's events, so it carries 64 random bits.
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
