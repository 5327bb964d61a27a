package geo

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// Locator finds the country of an address: its ISO 3166-1 alpha-2 code, ""
// when unknown (a private address, or one the database lacks).
type Locator interface {
	Country(addr netip.Addr) (string, error)
}

// Store is geo's view of persistence; internal/store binds it.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over the geo-fence tables.
type Tx interface {
	audit.Writer
	GroupByID(ctx context.Context, id int64) (*identity.Group, error)
	// GeoFence returns the server-wide policy, Disabled() when none was set.
	GeoFence(ctx context.Context) (*Policy, error)
	PutGeoFence(ctx context.Context, p *Policy) error
	// GroupGeoFence returns groupID's own policy; not_found when it has none.
	GroupGeoFence(ctx context.Context, groupID int64) (*GroupPolicy, error)
	// ListGroupGeoFences returns the groups' own policies (every group's
	// for 0), by group id.
	ListGroupGeoFences(ctx context.Context, groupID int64) ([]*GroupPolicy, error)
	PutGroupGeoFence(ctx context.Context, p *GroupPolicy) error
	// DeleteGroupGeoFence removes groupID's own policy; not_found when it
	// has none.
	DeleteGroupGeoFence(ctx context.Context, groupID int64) error
}

// Service is geo-fencing. It keeps no state besides the store's, so
// replicas agree at once.
type Service struct {
	store Store
	loc   Locator
	now   func() time.Time
	log   *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where failures that cannot be returned are reported.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the service. loc may be nil (no database configured):
// then every country is unknown, so an enabled policy admits or refuses
// everyone by its unknown-country rule.
func NewService(st Store, loc Locator, opts ...Option) *Service {
	s := &Service{store: st, loc: loc, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

const (
	actRead  authz.Action = "gateways:read"
	actWrite authz.Action = "gateways:write"
)

var (
	errSuperOnly = fault.New(fault.Forbidden, "only a super administrator may change geo-fencing")
	errNoGroup   = fault.New(fault.NotFound, "group not found")
	errNoPolicy  = fault.New(fault.NotFound, "the group has no geo-fence of its own")
)

// allowRead: administrators (and their API keys with gateways:read) read
// the settings of their scope (authz.Administer).
func allowRead(p *authz.Principal) error {
	if err := authz.Allow(p, actRead, authz.Any); err != nil {
		return err
	}
	return authz.Allow(p, authz.Administer, authz.Any)
}

// allowWrite: the policies bind every group's logins, so only a super
// administrator (or the master key) changes them. Another group's policy is
// not found for anyone else; groupID 0 is the server-wide policy.
func allowWrite(p *authz.Principal, groupID int64) error {
	res := authz.Resource{GroupID: groupID, OwnerID: -1}
	if groupID == 0 { // the server-wide policy: refused, not hidden
		res = authz.Any
	}
	if err := authz.Allow(p, actWrite, res); err != nil {
		if fault.Is(err, fault.NotFound) {
			return errNoGroup
		}
		return err
	}
	if p.Kind == authz.KindMaster || p.IsSuper() {
		return nil
	}
	return errSuperOnly
}

// Settings is every policy a caller may see.
type Settings struct {
	Global Policy
	Groups []*GroupPolicy
	// Database reports whether a country database is configured.
	Database bool
}

// Settings returns the server-wide policy and the group policies of p's
// scope. Errors: forbidden, unauthorized.
func (s *Service) Settings(ctx context.Context, p *authz.Principal) (*Settings, error) {
	if err := allowRead(p); err != nil {
		return nil, err
	}
	rd := s.store.Read()
	g, err := rd.GeoFence(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := rd.ListGroupGeoFences(ctx, p.GroupScope())
	if err != nil {
		return nil, err
	}
	return &Settings{Global: *g, Groups: groups, Database: s.loc != nil}, nil
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func policyDetails(p Policy) map[string]any {
	return map[string]any{"enabled": p.Enabled, "mode": p.Mode, "countries": p.Countries, "unknown_country": p.Unknown}
}

// UpdateGlobal changes the server-wide policy. Errors: invalid, forbidden,
// unauthorized.
func (s *Service) UpdateGlobal(ctx context.Context, p *authz.Principal, src audit.Source, in Input) (*Policy, error) {
	if err := allowWrite(p, 0); err != nil {
		return nil, err
	}
	var out *Policy
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.GeoFence(ctx)
		if err != nil {
			return err
		}
		next, err := in.apply(*cur)
		if err != nil {
			return err
		}
		next.UpdatedAt = s.stamp()
		if err := tx.PutGeoFence(ctx, &next); err != nil {
			return err
		}
		out = &next
		return audit.Record(ctx, tx, src, 0, "geo-fence.update", "geo-fence", policyDetails(next))
	})
	return out, err
}

// GroupPolicy returns groupID's own policy. Errors: not_found (another
// group, or none of its own), forbidden, unauthorized.
func (s *Service) GroupPolicy(ctx context.Context, p *authz.Principal, groupID int64) (*GroupPolicy, error) {
	if err := allowRead(p); err != nil {
		return nil, err
	}
	if !p.IsSuper() && p.Kind != authz.KindMaster && groupID != p.GroupID {
		return nil, errNoGroup
	}
	return s.store.Read().GroupGeoFence(ctx, groupID)
}

// PutGroup sets groupID's own policy, starting from the server-wide one
// when the group has none yet. Errors: invalid, not_found (no such
// group), forbidden, unauthorized.
func (s *Service) PutGroup(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in Input) (*GroupPolicy, error) {
	if err := allowWrite(p, groupID); err != nil {
		return nil, err
	}
	var out *GroupPolicy
	err := s.store.InTx(ctx, func(tx Tx) error {
		grp, err := tx.GroupByID(ctx, groupID)
		if fault.Is(err, fault.NotFound) {
			return errNoGroup
		}
		if err != nil {
			return err
		}
		cur, err := tx.GroupGeoFence(ctx, groupID)
		if fault.Is(err, fault.NotFound) {
			var g *Policy
			if g, err = tx.GeoFence(ctx); err == nil {
				cur = &GroupPolicy{GroupID: groupID, Policy: *g}
			}
		}
		if err != nil {
			return err
		}
		next, err := in.apply(cur.Policy)
		if err != nil {
			return err
		}
		next.UpdatedAt = s.stamp()
		out = &GroupPolicy{GroupID: groupID, GroupName: grp.Name, Policy: next}
		if err := tx.PutGroupGeoFence(ctx, out); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, groupID, "geo-fence.group.update", groupTarget(groupID), policyDetails(next))
	})
	return out, err
}

// DeleteGroup removes groupID's own policy: the server-wide one applies to
// it again. Errors: not_found, forbidden, unauthorized.
func (s *Service) DeleteGroup(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64) error {
	if err := allowWrite(p, groupID); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteGroupGeoFence(ctx, groupID); err != nil {
			if fault.Is(err, fault.NotFound) {
				return errNoPolicy
			}
			return err
		}
		return audit.Record(ctx, tx, src, groupID, "geo-fence.group.delete", groupTarget(groupID), nil)
	})
}

func groupTarget(id int64) string { return "geo-fence:group:" + strconv.FormatInt(id, 10) }
