package federation

import (
	"context"
	"encoding/json"

	"netkeep/internal/catalog"
	"netkeep/internal/event"
)

// The federation's events. Replicas sharing one database share the peers
// and their stored apps, but each shows them from memory: every sync and
// removal is announced so each replica's catalog shows the new state at
// once, not at its own next sync.
const (
	TopicFederation   = "federation"
	ActionPeerSynced  = "peer_synced"  // ID: the peer; its apps and status were stored
	ActionPeerRemoved = "peer_removed" // ID: the peer; it and its apps are gone
)

// publish announces a committed change of peerID. A replica that is not
// told shows the change at its next sync: a failure is logged, not
// returned.
func (s *Service) publish(ctx context.Context, action, peerID string) {
	if s.bus == nil {
		return
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: TopicFederation, Action: action, ID: peerID}); err != nil {
		s.log.Warn("announcing a federation change", "action", action, "peer", peerID, "error", err)
	}
}

// follow shows the stored peers' apps again whenever another replica
// announces a change (or the bus asks for a resync, as after a restore),
// until ctx ends.
func (s *Service) follow(ctx context.Context) {
	defer s.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-s.sub.C():
			if !ok {
				return
			}
			if e.Origin == s.bus.Origin() && e.Topic != event.TopicBus && s.sub.Dropped() == 0 {
				continue // this replica showed it before announcing
			}
			if err := s.refreshCatalog(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("showing the peers' apps", "error", err)
			}
		}
	}
}

// announceHealth publishes an app health_change, as the catalog's checks
// do for local apps, for each remote app whose health differs from what
// this replica showed before (prev, by app id; an app not shown before
// counts as a change, like a local route's first check).
func (s *Service) announceHealth(ctx context.Context, prev map[string]string, entries []catalog.Entry) {
	if s.bus == nil {
		return
	}
	for _, e := range entries {
		was, h := prev[e.App.ID], e.Remote.Health
		if was == h.Status {
			continue
		}
		data, err := json.Marshal(catalog.HealthChange{AppID: e.App.ID, Status: h.Status, PreviousStatus: was, LastCheck: h.LastCheck})
		if err != nil {
			continue
		}
		ev := event.Event{Topic: catalog.TopicApp, Action: catalog.ActionHealthChange, GroupID: e.App.GroupID, ID: e.App.ID, Data: data}
		if err := s.bus.Publish(ctx, ev); err != nil {
			s.log.Warn("announcing a remote app's health", "app", e.App.ID, "error", err)
		}
	}
}
