package catalog

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// Store is the catalog's view of persistence; internal/store binds it with
// store.For[catalog.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the catalog tables. Lookups return a
// not_found fault for a missing row; inserts that break a uniqueness rule
// return a conflict fault.
type Tx interface {
	audit.Writer

	// InsertApp stores an app and its route (source says where it came
	// from: SourceAPI, SourceFile, SourceDiscovery).
	InsertApp(ctx context.Context, e Entry, source string) error
	// UpdateApp writes every field of the app and its route.
	UpdateApp(ctx context.Context, e Entry) error
	// DeleteApp removes the app, its route and its cached favicon.
	DeleteApp(ctx context.Context, appID string) error
	AppByID(ctx context.Context, appID string) (Entry, error)
	AppByRouteID(ctx context.Context, routeID string) (Entry, error)
	// ListApps returns groupID's apps with their routes (every group's for
	// 0), by id.
	ListApps(ctx context.Context, groupID int64) ([]Entry, error)
	// AppsFrom returns the ids of the apps a source created.
	AppsFrom(ctx context.Context, source string) ([]string, error)

	// AppIcon returns the cached favicon (not_found when none was fetched).
	AppIcon(ctx context.Context, appID string) (*Icon, error)
	// SetAppIcon stores the fetched favicon; an empty Data records that the
	// upstream had none (so it is not asked on every request).
	SetAppIcon(ctx context.Context, appID string, icon *Icon) error

	// UpsertProposal stores p by (Source, SourceKey), keeping its ID and
	// State when it exists.
	UpsertProposal(ctx context.Context, p *Proposal) error
	ProposalByID(ctx context.Context, id string) (*Proposal, error)
	ProposalByKey(ctx context.Context, source, key string) (*Proposal, error)
	// ListProposals returns groupID's proposals in state (every group's
	// for 0), newest sighting first.
	ListProposals(ctx context.Context, groupID int64, state string) ([]*Proposal, error)
	SetProposalState(ctx context.Context, id, state string, at time.Time) error
	DeleteProposal(ctx context.Context, id string) error
	// DeleteProposals removes groupID's proposals in state and says how many.
	DeleteProposals(ctx context.Context, groupID int64, state string) (int, error)
	// CountProposals counts the proposals in state of every group.
	CountProposals(ctx context.Context, state string) (int, error)
}

// Where an app came from: the API, the route file given at start, or a
// discovery approval. The route file owns its apps: one it no longer lists
// is removed at the next start.
const (
	SourceAPI       = "api"
	SourceFile      = "file"
	SourceDiscovery = "discovery"
)
