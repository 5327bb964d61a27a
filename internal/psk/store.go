package psk

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// Store is psk's view of persistence; internal/store binds it with
// store.For[psk.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the psks and endpoints tables. Lookups return a
// not_found fault for a missing row; writes that break a uniqueness rule
// return a conflict fault, and a group that does not exist an invalid one.
type Tx interface {
	audit.Writer

	// InsertPSKs inserts rows (as many per statement as fit) and sets their
	// IDs. Timestamps are stored as given.
	InsertPSKs(ctx context.Context, rows []*Row) error
	// TakenPSKIDs returns which of names already exist in the group.
	TakenPSKIDs(ctx context.Context, groupID int64, names []string) (map[string]bool, error)
	PSKRow(ctx context.Context, id int64) (*Row, error)
	PSKRowByName(ctx context.Context, groupID int64, name string) (*Row, error)
	// ListPSKs returns a page of f's matches ordered by ID, without the
	// sealed passphrase.
	ListPSKs(ctx context.Context, f Filter) ([]*PSK, error)
	// CountPSKs counts f's matches, ignoring Limit and Offset; an unfiltered
	// count reads maintained per-group counters.
	CountPSKs(ctx context.Context, f Filter) (int, error)
	// UpdatePSK writes every mutable field of r (psk_id, sealed passphrase,
	// description, VLAN, enabled, expiry, expiry notice, updated_at).
	UpdatePSK(ctx context.Context, r *Row) error
	DeletePSK(ctx context.Context, id int64) error
	// ScanPSKs calls fn for every PSK row matching f, ordered by ID.
	ScanPSKs(ctx context.Context, f Scan, fn func(*Row) error) error
	// ScanKeys calls fn for every visible PSK of every group with only
	// what authenticates (SealedKey), in no particular order; *k and its
	// slices are reused and valid only during the call.
	ScanKeys(ctx context.Context, fn func(k *SealedKey) error) error
	// MarkExpired stamps up to limit PSKs whose expiry is at or before now and
	// whose expiry was not reported yet with expiry notice now, and returns
	// them. Concurrent callers never both return the same PSK.
	MarkExpired(ctx context.Context, now time.Time, limit int) ([]*PSK, error)

	// InsertEndpoints inserts endpoints and sets their IDs.
	InsertEndpoints(ctx context.Context, es []*Endpoint) error
	// TakenMACs returns which of macs already have an endpoint in the group.
	TakenMACs(ctx context.Context, groupID int64, macs []string) (map[string]bool, error)
	EndpointByID(ctx context.Context, id int64) (*Endpoint, error)
	EndpointByMAC(ctx context.Context, groupID int64, mac string) (*Endpoint, error)
	ListEndpoints(ctx context.Context, f EndpointFilter) ([]*Endpoint, error)
	CountEndpoints(ctx context.Context, f EndpointFilter) (int, error)
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	DeleteEndpoint(ctx context.Context, id int64) error
	// DeleteEndpointsOfPSK removes the PSK's endpoints and returns them.
	DeleteEndpointsOfPSK(ctx context.Context, pskID int64) ([]*Endpoint, error)
	// ScanEndpoints calls fn for every endpoint matching f, ordered by PSK
	// then ID.
	ScanEndpoints(ctx context.Context, f Scan, fn func(*Endpoint) error) error
	// ScanBindings calls fn for every visible endpoint of every group with
	// only what authenticates (Binding), in no particular order; *b and its
	// slices are reused and valid only during the call.
	ScanBindings(ctx context.Context, fn func(b *Binding) error) error
	// TouchEndpoints raises last_seen to the given times, never lowering
	// it; IDs that no longer exist are ignored.
	TouchEndpoints(ctx context.Context, seen map[int64]time.Time) error

	// A large import is written pending (BeginImport, StageImport,
	// PromoteImport, SettleImport) unless the store holds a transaction
	// open for it (see holder; then InsertImported, CountImported).

	// BeginImport records a pending import into groupID and returns its
	// id.
	BeginImport(ctx context.Context, groupID int64, at time.Time) (int64, error)
	// StageImport inserts rows (setting their IDs) and endpoints for their
	// MACs, pending in import id: invisible to every method but the
	// uniqueness checks (TakenPSKIDs, TakenMACs) until PromoteImport. A
	// psk_id or MAC taken since it was checked is a conflict with reason
	// ReasonPSKIDExists or ReasonEndpointExists; an import that is gone or
	// visible is not_found.
	StageImport(ctx context.Context, id int64, rows []StagedRow, at time.Time) error
	// InsertImported inserts rows (setting their IDs) and endpoints for
	// their MACs as they are, not pending, in a transaction held open by a
	// holder store; it returns how many endpoints it inserted. Conflicts as
	// StageImport's. The PSKs are counted by CountImported.
	InsertImported(ctx context.Context, rows []StagedRow) (int, error)
	// CountImported adds n PSKs written by InsertImported to groupID's
	// count.
	CountImported(ctx context.Context, groupID int64, n int) error
	// PromoteImport makes every row of import id visible at once, at a cost
	// independent of the import's size, and counts its PSKs; not_found when
	// the import is gone (dropped as dead) or visible already.
	PromoteImport(ctx context.Context, id int64, at time.Time) (*Promoted, error)
	// SettleImport does up to limit rows of what is left of import id: a
	// visible import's rows lose their pending mark, a hidden (failed or
	// dead) import's rows are deleted, and then the import itself. It
	// reports whether work remains.
	SettleImport(ctx context.Context, id int64, limit int) (bool, error)
	// ImportsToSettle returns the imports to settle: visible ones not
	// settled yet, hidden ones untouched since staleBefore, and those whose
	// pending rows outlived their import's row.
	ImportsToSettle(ctx context.Context, staleBefore time.Time) ([]int64, error)
}

// StagedRow is one validated, sealed row of a pending import and the MACs
// to bind to it.
type StagedRow struct {
	Row  *Row
	MACs []string
}

// Promoted is what PromoteImport made visible.
type Promoted struct {
	GroupID         int64
	PSKs, Endpoints int
	FirstID, LastID int64
}

// Scan selects rows for a full scan (export, snapshots).
type Scan struct {
	GroupID  int64      // 0: every group
	UsableAt *time.Time // only enabled rows (and PSKs unexpired at this instant)
}
