package catalog

import (
	"context"
	"slices"
	"sync"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Scanner lists the services a discovery source runs now; a container
// engine adapter (internal/docker) implements it.
type Scanner interface {
	Scan(ctx context.Context) ([]Sighting, error)
}

// discovery is the catalog's discovery state: off until EnableDiscovery.
type discovery struct {
	mu      sync.Mutex // serialises observations so a proposal is made once
	scanner Scanner
	source  string
	group   func(ctx context.Context) (int64, error)
}

// EnableDiscovery turns discovery on: scanner is the source named source
// ("docker"), and group names the group whose administrators see its
// proposals and whose apps approvals create (the default group).
func (s *Service) EnableDiscovery(source string, sc Scanner, group func(ctx context.Context) (int64, error)) {
	s.discovery.mu.Lock()
	defer s.discovery.mu.Unlock()
	s.discovery.scanner, s.discovery.source, s.discovery.group = sc, source, group
}

// DisableDiscovery turns discovery off (the engine went away); proposals
// stay until it returns.
func (s *Service) DisableDiscovery() {
	s.discovery.mu.Lock()
	defer s.discovery.mu.Unlock()
	s.discovery.scanner = nil
}

// DiscoveryEnabled reports whether a discovery source is configured and
// reachable.
func (s *Service) DiscoveryEnabled() bool {
	s.discovery.mu.Lock()
	defer s.discovery.mu.Unlock()
	return s.discovery.scanner != nil
}

var errDiscoveryOff = fault.New(fault.Unavailable, "discovery is disabled: no container engine is configured or reachable").WithReason(ReasonDiscoveryOff)

// ProposalView is a proposal as the API shows it and as discovery events
// carry it.
type ProposalView struct {
	ID             string         `json:"id"`
	Source         string         `json:"source"`
	DetectedScheme string         `json:"detectedScheme"`
	DetectedHost   string         `json:"detectedHost"`
	DetectedPort   int            `json:"detectedPort"`
	Confidence     float64        `json:"confidence"`
	SuggestedApp   SuggestedApp   `json:"suggestedApp"`
	SuggestedRoute SuggestedRoute `json:"suggestedRoute"`
	AvailablePorts []PortOption   `json:"availablePorts"`
	Tags           []string       `json:"tags"`
	LastSeen       time.Time      `json:"lastSeen"`
	SecurityNotes  []string       `json:"securityNotes"`
}

// View is p as the API shows it; lists are never null.
func (p *Proposal) View() ProposalView {
	v := ProposalView{
		ID: p.ID, Source: p.Source, DetectedScheme: p.Scheme, DetectedHost: p.Host, DetectedPort: p.Port,
		Confidence: p.Confidence, SuggestedApp: p.SuggestedApp, SuggestedRoute: p.SuggestedRoute,
		AvailablePorts: p.Ports, Tags: p.Tags, LastSeen: p.LastSeen, SecurityNotes: p.SecurityNotes,
	}
	if v.AvailablePorts == nil {
		v.AvailablePorts = []PortOption{}
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.SecurityNotes == nil {
		v.SecurityNotes = []string{}
	}
	return v
}

// Observe records that a service runs: a new one becomes a pending
// proposal (event discovery/proposed), a pending one is refreshed (event
// discovery/updated when what it suggests changed). Dismissed and approved
// proposals only have their sighting time updated.
func (s *Service) Observe(ctx context.Context, sg Sighting) error {
	s.discovery.mu.Lock()
	defer s.discovery.mu.Unlock()
	return s.observe(ctx, sg)
}

func (s *Service) observe(ctx context.Context, sg Sighting) error {
	if s.discovery.group == nil {
		return errDiscoveryOff
	}
	p := Propose(sg)
	if p == nil {
		return s.vanish(ctx, sg.Source, sg.Key)
	}
	gid, err := s.discovery.group(ctx)
	if err != nil {
		return err
	}
	now := s.stamp()
	p.GroupID, p.LastSeen, p.UpdatedAt = gid, now, now
	action := ""
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.ProposalByKey(ctx, p.Source, p.SourceKey)
		switch {
		case fault.Is(err, fault.NotFound):
			p.ID, p.State, p.CreatedAt, action = newID("proposal_"), ProposalPending, now, ActionProposed
		case err != nil:
			return err
		default:
			p.ID, p.State, p.CreatedAt, p.GroupID = cur.ID, cur.State, cur.CreatedAt, cur.GroupID
			if cur.State == ProposalPending && !sameSuggestion(cur, p) {
				action = ActionUpdated
			}
		}
		return tx.UpsertProposal(ctx, p)
	})
	if err != nil {
		return err
	}
	if action != "" {
		s.publish(ctx, TopicDiscovery, action, p.GroupID, p.ID, p.View())
	}
	return nil
}

func sameSuggestion(a, b *Proposal) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host && a.Port == b.Port && a.Confidence == b.Confidence &&
		a.SuggestedApp == b.SuggestedApp && a.SuggestedRoute.To == b.SuggestedRoute.To &&
		slices.Equal(a.Ports, b.Ports) && slices.Equal(a.Tags, b.Tags)
}

// Vanish records that a service stopped: its pending proposal is removed
// (event discovery/removed). Dismissed ones stay dismissed.
func (s *Service) Vanish(ctx context.Context, source, key string) error {
	s.discovery.mu.Lock()
	defer s.discovery.mu.Unlock()
	return s.vanish(ctx, source, key)
}

func (s *Service) vanish(ctx context.Context, source, key string) error {
	var gone *Proposal
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.ProposalByKey(ctx, source, key)
		if err != nil || cur.State != ProposalPending {
			return ignoreNotFound(err)
		}
		gone = cur
		return tx.DeleteProposal(ctx, cur.ID)
	})
	if err != nil || gone == nil {
		return err
	}
	s.publish(ctx, TopicDiscovery, ActionRemoved, gone.GroupID, gone.ID, map[string]string{"id": gone.ID})
	return nil
}

func ignoreNotFound(err error) error {
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}

// Scan asks the scanner for everything running now: each service is
// observed, and pending proposals of the source that no longer run are
// removed.
func (s *Service) Scan(ctx context.Context) error {
	s.discovery.mu.Lock()
	defer s.discovery.mu.Unlock()
	if s.discovery.scanner == nil {
		return errDiscoveryOff
	}
	all, err := s.discovery.scanner.Scan(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, sg := range all {
		seen[sg.Key] = true
		if err := s.observe(ctx, sg); err != nil {
			return err
		}
	}
	pending, err := s.store.Read().ListProposals(ctx, 0, ProposalPending)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if p.Source == s.discovery.source && !seen[p.SourceKey] {
			if err := s.vanish(ctx, p.Source, p.SourceKey); err != nil {
				return err
			}
		}
	}
	return nil
}

// Proposals lists the pending proposals p may see, most recently seen
// first. Without discovery the list is empty. Errors: unauthorized,
// forbidden.
func (s *Service) Proposals(ctx context.Context, p *authz.Principal) ([]*Proposal, error) {
	if err := authz.Allow(p, actRead, authz.Any); err != nil {
		return nil, err
	}
	return s.store.Read().ListProposals(ctx, p.GroupScope(), ProposalPending)
}

// CountPendingProposals counts the pending proposals of every group.
func (s *Service) CountPendingProposals(ctx context.Context) (int, error) {
	return s.store.Read().CountProposals(ctx, ProposalPending)
}

// proposalFor loads a pending proposal p may change.
func proposalFor(ctx context.Context, tx Tx, p *authz.Principal, id string) (*Proposal, error) {
	prop, err := tx.ProposalByID(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errProposalNotFound)
	}
	if err := authz.Allow(p, actWrite, authz.Resource{GroupID: prop.GroupID}); err != nil {
		return nil, notFoundAs(err, errProposalNotFound)
	}
	if prop.State != ProposalPending {
		return nil, fault.Errorf(fault.Conflict, "the proposal was already %s", prop.State)
	}
	return prop, nil
}

// Approve adds a pending proposal's app and route to the catalog, on the
// chosen port (0: the detected one), in the proposal's group. Errors:
// invalid (a port the service does not have), forbidden, not_found,
// conflict (already decided, or the app id is taken).
func (s *Service) Approve(ctx context.Context, p *authz.Principal, src audit.Source, id string, port int) (*Proposal, Entry, error) {
	var (
		prop *Proposal
		e    Entry
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if prop, err = proposalFor(ctx, tx, p, id); err != nil {
			return err
		}
		route, _, ok := prop.PortSuggestion(port)
		if !ok {
			return invalidField("port", "the service does not listen on that port")
		}
		in := RouteInput{AppID: &prop.SuggestedApp.ID, Name: &prop.SuggestedApp.Name, Icon: &prop.SuggestedApp.Icon,
			Tags: &prop.Tags, To: &route.To, WebSocket: &route.WebSocket, StripPrefix: route.StripPrefix}
		if len(route.Scopes) > 0 {
			in.Scopes = &route.Scopes
		}
		if route.Auth != "" {
			in.Auth = &route.Auth
		}
		if e, err = newEntry(in, prop.GroupID, 0, s.stamp()); err != nil {
			return err
		}
		if err := tx.InsertApp(ctx, e, SourceDiscovery); err != nil {
			return conflictAs(err, e.App.ID)
		}
		if err := tx.SetProposalState(ctx, prop.ID, ProposalApproved, s.stamp()); err != nil {
			return err
		}
		prop.SuggestedRoute = route
		return audit.Record(ctx, tx, src, prop.GroupID, "discovery.approve", "proposal:"+prop.ID, map[string]any{
			"app_id": e.App.ID, "to": e.Route.To, "source": prop.Source, "key": prop.SourceKey,
		})
	})
	if err != nil {
		return nil, Entry{}, err
	}
	s.changed(ctx, ActionCreated, e)
	s.publish(ctx, TopicDiscovery, ActionRemoved, prop.GroupID, prop.ID, map[string]string{"id": prop.ID, "status": ProposalApproved})
	return prop, e, nil
}

// Dismiss sets a pending proposal aside until the next rediscovery.
// Errors: forbidden, not_found, conflict (already decided).
func (s *Service) Dismiss(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*Proposal, error) {
	var prop *Proposal
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if prop, err = proposalFor(ctx, tx, p, id); err != nil {
			return err
		}
		if err := tx.SetProposalState(ctx, prop.ID, ProposalDismissed, s.stamp()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, prop.GroupID, "discovery.dismiss", "proposal:"+prop.ID, map[string]any{
			"source": prop.Source, "key": prop.SourceKey,
		})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, TopicDiscovery, ActionRemoved, prop.GroupID, prop.ID, map[string]string{"id": prop.ID, "status": ProposalDismissed})
	return prop, nil
}

// Rediscovery is what a rediscovery cleared.
type Rediscovery struct {
	DismissedCleared int
	ActiveCleared    int
}

// Rediscover forgets p's group's dismissed and pending proposals and scans
// again, so every running service is proposed afresh. Errors: forbidden,
// unavailable (discovery disabled).
func (s *Service) Rediscover(ctx context.Context, p *authz.Principal, src audit.Source) (Rediscovery, error) {
	if err := authz.Allow(p, actWrite, authz.Resource{GroupID: p.GroupID}); err != nil {
		return Rediscovery{}, err
	}
	if !s.DiscoveryEnabled() {
		return Rediscovery{}, errDiscoveryOff
	}
	var out Rediscovery
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if out.DismissedCleared, err = tx.DeleteProposals(ctx, p.GroupScope(), ProposalDismissed); err != nil {
			return err
		}
		if out.ActiveCleared, err = tx.DeleteProposals(ctx, p.GroupScope(), ProposalPending); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, p.GroupID, "discovery.rediscover", "discovery", map[string]any{
			"dismissed_cleared": out.DismissedCleared, "active_cleared": out.ActiveCleared,
		})
	})
	if err != nil {
		return Rediscovery{}, err
	}
	if err := s.Scan(ctx); err != nil {
		s.log.Warn("rediscovery scan", "error", err)
	}
	return out, nil
}
