package federation

import (
	"context"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/fault"
)

// SyncResult is the outcome of an on-demand sync.
type SyncResult struct {
	Peers []*Peer // every peer after the sync, by name
}

// Sync fetches every peer's catalog now. A peer that cannot be reached is
// marked disconnected and its apps unhealthy; that is a result, not an
// error. Errors: unauthorized, forbidden, conflict (federation off).
func (s *Service) Sync(ctx context.Context, p *authz.Principal, src audit.Source) (*SyncResult, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	if _, err := s.local(); err != nil {
		return nil, err
	}
	peers, err := s.syncAll(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, 0, "federation.sync", "federation", map[string]any{"peers": len(peers)})
	}); err != nil {
		return nil, err
	}
	return &SyncResult{Peers: peers}, nil
}

// syncAll syncs with every peer, one after the other, and returns the
// peers as they are afterwards.
func (s *Service) syncAll(ctx context.Context) ([]*Peer, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	peers, err := s.store.Read().FederationPeers(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		if err := s.syncPeer(ctx, p); err != nil && ctx.Err() == nil {
			s.log.Debug("federation sync failed", "peer", p.ID, "error", err)
		}
	}
	if err := s.refreshCatalog(ctx); err != nil {
		return nil, err
	}
	return s.store.Read().FederationPeers(ctx)
}

// syncPeer fetches one peer's shared apps and records the outcome.
func (s *Service) syncPeer(ctx context.Context, p *Peer) error {
	shared, serr := s.link.Catalog(ctx, p.URL, p.CAFingerprint)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	now := s.stamp()
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.FederationPeer(ctx, p.ID); err != nil {
			return err // removed meanwhile
		}
		if serr != nil {
			return tx.SetFederationPeerState(ctx, p.ID, StatusDisconnected, clientSafe(serr), now)
		}
		apps := make([]RemoteApp, 0, len(shared.Apps))
		for _, a := range shared.Apps {
			if localID(p.ID, a.ID) == "" {
				continue
			}
			apps = append(apps, RemoteApp{PeerID: p.ID, App: a, SyncedAt: now})
		}
		if err := tx.ReplaceFederationApps(ctx, p.ID, apps); err != nil {
			return err
		}
		return tx.SetFederationPeerState(ctx, p.ID, StatusConnected, "", now)
	})
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.refreshCatalog(ctx); err != nil {
		return err
	}
	s.publish(ctx, ActionPeerSynced, p.ID)
	return serr
}

// clientSafe is what a failed sync records: the fault's message, never a
// cause's detail.
func clientSafe(err error) string {
	if fe := fault.As(err); fe != nil && fe.Code != fault.Internal {
		return fe.Message
	}
	return "the peer could not be reached"
}

// refreshCatalog shows every peer's apps in the catalog as stored: healthy
// as the peer reported them while it is connected, unhealthy otherwise;
// each change of an app's health is announced.
func (s *Service) refreshCatalog(ctx context.Context) error {
	s.showMu.Lock()
	defer s.showMu.Unlock()
	peers, err := s.store.Read().FederationPeers(ctx)
	if err != nil {
		return err
	}
	apps, err := s.store.Read().FederationApps(ctx)
	if err != nil {
		return err
	}
	var group int64
	if s.cfg.DefaultGroup != nil {
		if group, err = s.cfg.DefaultGroup(ctx); err != nil {
			return err
		}
	}
	byPeer := map[string][]catalog.Entry{}
	for _, id := range s.catalog.RemotePeers() {
		byPeer[id] = nil // removed since: shown no more
	}
	known := map[string]*Peer{}
	for _, p := range peers {
		known[p.ID] = p
		byPeer[p.ID] = nil
	}
	for _, a := range apps {
		p := known[a.PeerID]
		if p == nil {
			continue
		}
		byPeer[p.ID] = append(byPeer[p.ID], s.entry(p, a, group))
	}
	for id, entries := range byPeer {
		prev := map[string]string{}
		for _, e := range entries {
			if cur, ok := s.catalog.Lookup(e.App.ID); ok && cur.Remote != nil {
				prev[e.App.ID] = cur.Remote.Health.Status
			}
		}
		s.catalog.SetRemote(id, entries)
		s.announceHealth(ctx, prev, entries)
	}
	return nil
}

// entry is a peer's app as the local catalog shows and the proxy
// reaches it: under a local id that names the peer, forwarded to the
// peer's federation listener, which proxies to the app.
func (s *Service) entry(p *Peer, a RemoteApp, group int64) catalog.Entry {
	health := catalog.HealthUnhealthy
	if p.Status == StatusConnected && a.App.Health != "" {
		health = a.App.Health
	}
	id := localID(p.ID, a.App.ID)
	auth := catalog.Auth(a.App.Auth)
	switch auth {
	case catalog.AuthPublic, catalog.AuthLocal, catalog.AuthToken:
	default:
		auth = catalog.AuthToken
	}
	tags := a.App.Tags
	if tags == nil {
		tags = []string{}
	}
	return catalog.Entry{
		App: &catalog.App{ID: id, GroupID: group, Name: a.App.Name, Icon: a.App.Icon, Tags: tags,
			Endpoints: map[string]string{}, CreatedAt: a.SyncedAt, UpdatedAt: a.SyncedAt},
		Route: &catalog.Route{ID: "route_" + id, AppID: id, GroupID: group,
			To:          strings.TrimSuffix(p.URL, "/") + "/federation/v1/apps/" + a.App.ID,
			StripPrefix: true, WebSocket: a.App.WebSocket, Scopes: a.App.Scopes, Auth: auth,
			Timeout: catalog.DefaultTimeout, Status: catalog.StatusActive,
			// The proxy rebuilds a route when UpdatedAt moves: at every
			// sync that brought the app's current settings.
			CreatedAt: p.CreatedAt, UpdatedAt: a.SyncedAt},
		Remote: &catalog.Remote{PeerID: p.ID, PeerName: p.Name, AppID: a.App.ID, Pin: p.CAFingerprint,
			Health: catalog.Health{Status: health, LastCheck: a.SyncedAt}},
	}
}

// localID is the local catalog id of a peer's app: "<peer id>-<app id>",
// or "" when that is not a valid app id (the app is then not shown).
func localID(peerID, appID string) string {
	id := strings.ReplaceAll(peerID, "_", "-") + "-" + appID
	if catalog.ValidAppID(id) != nil {
		return ""
	}
	return id
}
