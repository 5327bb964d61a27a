package catalog

import (
	"maps"
	"slices"
	"sync"
)

// Remote marks an entry as another netkeep instance's app, shared over
// federation (internal/federation): read-only here, reached through the
// proxy over the link to that peer, with the health the peer reports.
type Remote struct {
	PeerID   string
	PeerName string
	AppID    string // the app's id on the peer
	Pin      string // the peer's CA fingerprint: the link accepts only it
	Health   Health
}

// RemotePrefix starts the local id of every peer's app ("peer-<peer id
// digits>-<app id>"); a local app may not take such an id, so a peer's app
// never collides with one created here.
const RemotePrefix = "peer-"

// remoteApps holds the peers' apps by peer id. Memory only: federation
// sets them from its store at start and after every sync.
type remoteApps struct {
	mu     sync.RWMutex
	byPeer map[string][]Entry
}

// SetRemote makes entries the apps of peerID (nil: it has none, or is
// gone) and rebuilds the route table. A remote entry never hides a local
// app of the same id.
func (s *Service) SetRemote(peerID string, entries []Entry) {
	s.remote.mu.Lock()
	if s.remote.byPeer == nil {
		s.remote.byPeer = map[string][]Entry{}
	}
	gone := s.remote.byPeer[peerID]
	if len(entries) == 0 {
		delete(s.remote.byPeer, peerID)
	} else {
		s.remote.byPeer[peerID] = slices.Clone(entries)
	}
	s.remote.mu.Unlock()
	for _, e := range gone {
		if !slices.ContainsFunc(entries, func(n Entry) bool { return n.App.ID == e.App.ID }) {
			s.health.forget(e.App.ID)
		}
	}
	s.rebuild()
}

// RemotePeers returns the ids of the peers whose apps are set, sorted.
func (s *Service) RemotePeers() []string {
	s.remote.mu.RLock()
	defer s.remote.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.remote.byPeer))
}

// remoteEntries returns every peer's apps.
func (s *Service) remoteEntries() []Entry {
	s.remote.mu.RLock()
	defer s.remote.mu.RUnlock()
	var out []Entry
	for _, k := range slices.Sorted(maps.Keys(s.remote.byPeer)) {
		out = append(out, s.remote.byPeer[k]...)
	}
	return out
}

// rebuild swaps in a table of the current local entries and the remote
// ones.
func (s *Service) rebuild() {
	s.reload.Lock()
	defer s.reload.Unlock()
	cur := s.table.Load()
	t := &routeTable{byApp: make(map[string]Entry, len(cur.byApp)), local: cur.local}
	s.fill(t)
	s.table.Store(t)
}

// fill adds the local entries, then the remote ones that do not collide.
func (s *Service) fill(t *routeTable) {
	for _, e := range t.local {
		t.byApp[e.App.ID] = e
	}
	for _, e := range s.remoteEntries() {
		if _, taken := t.byApp[e.App.ID]; !taken {
			t.byApp[e.App.ID] = e
		}
	}
}

// remoteFor returns the remote entries a listing scoped to group (0:
// every group) shows.
func (s *Service) remoteFor(group int64) []Entry {
	t := s.table.Load()
	var out []Entry
	for _, e := range t.byApp {
		if e.Remote != nil && (group == 0 || e.App.GroupID == group) {
			out = append(out, e)
		}
	}
	return out
}
