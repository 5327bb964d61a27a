package catalog

import (
	"context"
	"slices"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// The actions the catalog checks (authz's names; Nekzus's read:catalog
// grants apps:read, write:* grants apps:write).
const (
	actRead  authz.Action = "apps:read"
	actWrite authz.Action = "apps:write"
)

func appTarget(id string) string { return "app:" + id }

// allowOn checks p may perform a on e; another group's app is not found.
func allowOn(p *authz.Principal, a authz.Action, e Entry) error {
	err := authz.Allow(p, a, authz.Resource{GroupID: e.App.GroupID, OwnerID: e.App.OwnerID})
	if fault.Is(err, fault.NotFound) {
		return errAppNotFound
	}
	return err
}

// Apps lists the apps p may see (its group's; every group's for a super
// principal), by id. Errors: unauthorized, forbidden.
func (s *Service) Apps(ctx context.Context, p *authz.Principal) ([]Entry, error) {
	if err := authz.Allow(p, actRead, authz.Any); err != nil {
		return nil, err
	}
	local, err := s.store.Read().ListApps(ctx, p.GroupScope())
	if err != nil {
		return nil, err
	}
	remote := s.remoteFor(p.GroupScope())
	if len(remote) == 0 {
		return local, nil
	}
	all := append(local, remote...)
	slices.SortFunc(all, func(a, b Entry) int { return strings.Compare(a.App.ID, b.App.ID) })
	return all, nil
}

// App returns one app p may see. Errors: unauthorized, forbidden, not_found.
func (s *Service) App(ctx context.Context, p *authz.Principal, appID string) (Entry, error) {
	e, err := s.store.Read().AppByID(ctx, appID)
	if fault.Is(err, fault.NotFound) {
		if r, ok := s.Lookup(appID); ok && r.Remote != nil {
			e, err = r, nil
		}
	}
	if err != nil {
		return Entry{}, notFoundAs(err, errAppNotFound)
	}
	if err := allowOn(p, actRead, e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// Create adds an app and its route to p's group. Errors: invalid,
// forbidden, conflict (the app id or route id is taken, in any group: the
// proxy has one namespace).
func (s *Service) Create(ctx context.Context, p *authz.Principal, src audit.Source, in RouteInput) (Entry, error) {
	if err := authz.Allow(p, actWrite, authz.Any); err != nil {
		return Entry{}, err
	}
	return s.create(ctx, src, in, p.GroupID, p.UserID, SourceAPI)
}

func (s *Service) create(ctx context.Context, src audit.Source, in RouteInput, groupID, ownerID int64, source string) (Entry, error) {
	e, err := newEntry(in, groupID, ownerID, s.stamp())
	if err != nil {
		return Entry{}, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertApp(ctx, e, source); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, groupID, "app.create", appTarget(e.App.ID), map[string]any{
			"route_id": e.Route.ID, "to": e.Route.To, "auth": e.Route.Auth, "source": source,
		})
	})
	if err != nil {
		return Entry{}, conflictAs(err, e.App.ID)
	}
	s.changed(ctx, ActionCreated, e)
	return e, nil
}

// newEntry validates a create input into a new app and route.
func newEntry(in RouteInput, groupID, ownerID int64, now time.Time) (Entry, error) {
	if in.AppID == nil || *in.AppID == "" {
		return Entry{}, invalidField("appId", "appId is required")
	}
	if err := ValidAppID(*in.AppID); err != nil {
		return Entry{}, err
	}
	if strings.HasPrefix(*in.AppID, RemotePrefix) {
		return Entry{}, invalidField("appId", "app ids starting with \""+RemotePrefix+"\" are reserved for federated peers' apps")
	}
	routeID := "route_" + *in.AppID
	if in.RouteID != nil && *in.RouteID != "" {
		routeID = *in.RouteID
	}
	if err := validRouteID(routeID); err != nil {
		return Entry{}, err
	}
	e := Entry{
		App:   &App{ID: *in.AppID, GroupID: groupID, OwnerID: ownerID, Tags: []string{}, CreatedAt: now, UpdatedAt: now},
		Route: &Route{ID: routeID, AppID: *in.AppID, GroupID: groupID, StripPrefix: true, CreatedAt: now, UpdatedAt: now},
	}
	if _, err := in.apply(&e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

func conflictAs(err error, appID string) error {
	if fault.Is(err, fault.Conflict) {
		return fault.Errorf(fault.Conflict, "an app %q or its route already exists", appID).WithReason(ReasonAppExists).
			WithDetails(map[string]any{"field": "appId"})
	}
	return err
}

func notFoundAs(err error, nf error) error {
	if fault.Is(err, fault.NotFound) {
		return nf
	}
	return err
}

// Routes lists the routes p may see, by app id. Errors: unauthorized,
// forbidden.
func (s *Service) Routes(ctx context.Context, p *authz.Principal) ([]Entry, error) {
	return s.Apps(ctx, p)
}

// writableRoute loads the app of a route p may change; another group's is
// not found.
func writableRoute(ctx context.Context, tx Tx, p *authz.Principal, routeID string) (Entry, error) {
	cur, err := tx.AppByRouteID(ctx, routeID)
	if err != nil {
		return Entry{}, notFoundAs(err, errRouteNotFound)
	}
	if err := allowOn(p, actWrite, cur); err != nil {
		return Entry{}, notFoundAs(err, errRouteNotFound)
	}
	return cur, nil
}

// UpdateRoute changes a route (and the app fields the input names). The
// app id cannot change: it is the proxy path. Errors: invalid, forbidden,
// not_found.
func (s *Service) UpdateRoute(ctx context.Context, p *authz.Principal, src audit.Source, routeID string, in RouteInput) (Entry, error) {
	var (
		out   Entry
		dirty bool
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := writableRoute(ctx, tx, p, routeID)
		if err != nil {
			return err
		}
		if in.AppID != nil && *in.AppID != cur.App.ID {
			return invalidField("appId", "a route's appId cannot change; delete it and create another")
		}
		if in.RouteID != nil && *in.RouteID != "" && *in.RouteID != routeID {
			return invalidField("routeId", "routeId in the body must match the path")
		}
		out, dirty, err = s.update(ctx, tx, src, cur, in)
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	if dirty {
		s.changed(ctx, ActionUpdated, out)
	}
	return out, nil
}

// update applies in to cur inside tx with its audit entry, and says
// whether anything changed (the caller announces it after commit).
func (s *Service) update(ctx context.Context, tx Tx, src audit.Source, cur Entry, in RouteInput) (Entry, bool, error) {
	app, route := *cur.App, *cur.Route
	app.Tags, route.Scopes = slices.Clone(app.Tags), slices.Clone(route.Scopes)
	next := Entry{App: &app, Route: &route}
	changed, err := in.apply(&next)
	if err != nil || len(changed) == 0 {
		return cur, false, err
	}
	now := s.stamp()
	app.UpdatedAt, route.UpdatedAt = now, now
	if err := tx.UpdateApp(ctx, next); err != nil {
		return Entry{}, false, err
	}
	if err := audit.Record(ctx, tx, src, app.GroupID, "app.update", appTarget(app.ID), map[string]any{"changed": changed}); err != nil {
		return Entry{}, false, err
	}
	return next, true, nil
}

// DeleteRoute removes a route and its app (an app is reachable only
// through its route). Errors: forbidden, not_found.
func (s *Service) DeleteRoute(ctx context.Context, p *authz.Principal, src audit.Source, routeID string) error {
	var gone Entry
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := writableRoute(ctx, tx, p, routeID)
		if err != nil {
			return err
		}
		gone = cur
		return s.remove(ctx, tx, src, cur)
	})
	if err != nil {
		return err
	}
	s.changed(ctx, ActionDeleted, gone)
	return nil
}

func (s *Service) remove(ctx context.Context, tx Tx, src audit.Source, e Entry) error {
	if err := tx.DeleteApp(ctx, e.App.ID); err != nil {
		return err
	}
	return audit.Record(ctx, tx, src, e.App.GroupID, "app.delete", appTarget(e.App.ID), map[string]any{"route_id": e.Route.ID})
}

// changed rebuilds the table and publishes a committed app change.
func (s *Service) changed(ctx context.Context, action string, e Entry) {
	if err := s.Reload(ctx); err != nil {
		s.log.Warn("reloading the route table", "error", err)
	}
	if action == ActionDeleted {
		s.health.forget(e.App.ID)
	}
	s.publish(ctx, TopicApp, action, e.App.GroupID, e.App.ID, nil)
}
