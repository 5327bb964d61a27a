package mesh

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// watch applies other replicas' changes until the subscription closes. Its
// own events are skipped (already applied). Events carry the changed object;
// one whose data was too large for a notification is read from the store.
// A bus resync, or events dropped because this loop fell behind, reconcile
// the whole state with the store.
func (s *Service) watch() {
	defer close(s.watching)
	var dropped uint64
	for ev := range s.sub.C() {
		switch {
		case ev.Topic == event.TopicBus:
			s.resync()
		case s.origin != "" && ev.Origin == s.origin:
		case ev.Topic == TopicNetwork:
			s.followNetwork(ev)
		case ev.Topic == TopicNode:
			s.followNode(ev)
		}
		if d := s.sub.Dropped(); d != dropped {
			dropped = d
			s.resync()
		}
	}
}

// followTimeout bounds the store reads an event may need.
const followTimeout = 10 * time.Second

func (s *Service) followNetwork(ev event.Event) {
	id, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil {
		return
	}
	if ev.Action == "deleted" {
		s.dropNetwork(id)
		return
	}
	var n Network
	if len(ev.Data) == 0 || json.Unmarshal(ev.Data, &n) != nil || n.ID != id {
		s.resync() // rare: read everything rather than guess
		return
	}
	s.applyNetwork(&n)
}

func (s *Service) followNode(ev event.Event) {
	id, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil {
		return
	}
	if ev.Action == "deleted" {
		var d deletion
		if json.Unmarshal(ev.Data, &d) == nil && d.NetworkID != 0 {
			s.applyDelete(d.NetworkID, id, d.At)
			return
		}
		s.resync()
		return
	}
	var n Node
	if len(ev.Data) > 0 && json.Unmarshal(ev.Data, &n) == nil && n.ID == id {
		s.applyNode(&n)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), followTimeout)
	defer cancel()
	got, err := s.store.Read().NodeByID(ctx, id)
	switch {
	case err == nil:
		s.applyNode(got)
	case fault.Is(err, fault.NotFound): // deleted since; its own event follows
	default:
		s.log.Warn("reading a changed node", "node", id, "error", err)
	}
}

// resync logs reconciliation failures; the next resync or event retries.
func (s *Service) resync() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.reload(ctx); err != nil {
		s.log.Warn("reconciling the mesh state with the store", "error", err)
	}
}

// reload reconciles the state with the store: networks and nodes that
// appeared or changed are applied (fanning their deltas out as usual), those
// gone are dropped. Revisions make it idempotent, so it may race with events.
func (s *Service) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	nets, err := s.store.Read().ListNetworks(ctx, 0)
	if err != nil {
		return err
	}
	live := make(map[int64]bool, len(nets))
	for _, n := range nets {
		live[n.ID] = true
		s.applyNetwork(n)
	}
	for _, st := range s.states() {
		if !live[st.id] {
			s.dropNetwork(st.id)
		}
	}
	present := map[int64]map[int64]bool{}
	err = s.store.Read().ScanNodes(ctx, 0, func(n *Node) error {
		ids := present[n.NetworkID]
		if ids == nil {
			ids = map[int64]bool{}
			present[n.NetworkID] = ids
		}
		ids[n.ID] = true
		s.applyNode(n)
		return nil
	})
	if err != nil {
		return err
	}
	at := s.stamp()
	for _, st := range s.states() {
		ids := present[st.id]
		st.mu.Lock()
		for id, m := range st.members {
			// A node created after the scan began may be missing from it
			// but newer than the scan: keep members younger than a minute.
			if !ids[id] && at.Sub(m.node.CreatedAt) > time.Minute {
				st.dropNode(id, at)
			}
		}
		st.unlock()
	}
	return nil
}
