// Package activity is the activity feed of netkeep (Nekzus's "recent
// activity"): what changed recently in every facet, device paired, PSK
// created, node joined, gateway provisioned, and the entries external
// systems post through webhooks; and the webhook notifications pushed to
// devices over the live stream.
//
// The feed is read from the audit log, which every change already writes in
// its own transaction, so it never misses a change nor shows one that did
// not commit, on any replica. A webhook's activity is itself an audit entry.
// A caller sees the entries of its group (super principals: every group)
// whose objects it may read. The package imports no HTTP and no SQL.
package activity

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Item is one entry of the feed.
type Item struct {
	ID        string // "<type>_<audit id>", or a webhook's eventId
	Type      string // e.g. "device_paired", "psk_created", "webhook.activity"
	Icon      string
	IconClass string
	Message   string
	Details   string // webhook entries only
	Time      time.Time
}

// MarshalJSON writes the item as Nekzus shows it, in the feed and in the
// webhook message alike: timestamp in Unix milliseconds.
func (it Item) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		Icon      string `json:"icon"`
		IconClass string `json:"iconClass"`
		Message   string `json:"message"`
		Details   string `json:"details,omitempty"`
		Timestamp int64  `json:"timestamp"`
	}{it.ID, it.Type, it.Icon, it.IconClass, it.Message, it.Details, it.Time.UnixMilli()})
}

// Page is a page of the feed, newest first, and how many entries match in
// all (counted up to MaxTotal).
type Page struct {
	Items []Item
	Total int
}

// Paging bounds.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
	// MaxTotal caps the count of matching entries: the feed is about what
	// is recent, and counting a group's whole history would cost a scan.
	MaxTotal = 10_000
)

// Query selects feed entries from the audit log: those of Actions, of
// GroupID (nil: every group), newest first.
type Query struct {
	GroupID *int64
	Actions []string
	Limit   int
	Offset  int
	// MaxCount bounds CountActivity.
	MaxCount int
}

// Store is the service's view of the store.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx reads the feed's entries and records webhook activity.
type Tx interface {
	audit.Writer
	ListActivity(ctx context.Context, q Query) ([]audit.Entry, error)
	CountActivity(ctx context.Context, q Query) (int, error)
}

// Service is the activity domain. It is safe for concurrent use.
type Service struct {
	store Store
	bus   event.Bus
	now   func() time.Time

	mu   sync.Mutex
	last int64 // the last webhook eventId's microseconds, kept increasing
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns the service; bus carries webhook pushes to the live
// stream of every replica.
func NewService(st Store, bus event.Bus, opts ...Option) *Service {
	s := &Service{store: st, bus: bus, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Recent returns a page of the feed p may see. Errors: unauthorized,
// forbidden (p may read none of the feed's objects), invalid (paging).
func (s *Service) Recent(ctx context.Context, p *authz.Principal, limit, offset int) (*Page, error) {
	if p == nil {
		return nil, fault.New(fault.Unauthorized, "authentication required")
	}
	if limit < 1 || limit > MaxLimit || offset < 0 {
		return nil, fault.Errorf(fault.Invalid, "limit must be from 1 to %d and offset not negative", MaxLimit)
	}
	q := Query{Actions: actionsFor(p), Limit: limit, Offset: offset, MaxCount: MaxTotal}
	if len(q.Actions) == 0 {
		return nil, fault.New(fault.Forbidden, "insufficient permissions")
	}
	if !p.IsSuper() {
		gid := p.GroupID
		q.GroupID = &gid
	}
	tx := s.store.Read()
	entries, err := tx.ListActivity(ctx, q)
	if err != nil {
		return nil, err
	}
	total, err := tx.CountActivity(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &Page{Items: make([]Item, 0, len(entries)), Total: total}
	for _, e := range entries {
		out.Items = append(out.Items, itemOf(e))
	}
	return out, nil
}

// itemOf reads one audit entry as a feed item.
func itemOf(e audit.Entry) Item {
	k := kinds[e.Action]
	if e.Action == ActionWebhook {
		var w webhookDetails
		_ = json.Unmarshal([]byte(e.Details), &w)
		return Item{ID: w.EventID, Type: ActionWebhook, Icon: w.Icon, IconClass: w.IconClass,
			Message: w.Message, Details: w.Details, Time: e.Time}
	}
	return Item{ID: k.typ + "_" + strconv.FormatInt(e.ID, 10), Type: k.typ, Icon: k.icon, IconClass: k.iconClass,
		Message: k.describe(e.Target, e.Details), Time: e.Time}
}
