package nekzus

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/federation"
)

// Federation is what the federation handlers need of the domain.
type Federation interface {
	Status(ctx context.Context, p *authz.Principal) (*federation.Status, error)
	Peers(ctx context.Context, p *authz.Principal) ([]*federation.Peer, error)
	Peer(ctx context.Context, p *authz.Principal, id string) (*federation.Peer, error)
	RemovePeer(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
	Sync(ctx context.Context, p *authz.Principal, src audit.Source) (*federation.SyncResult, error)
	CreateToken(ctx context.Context, p *authz.Principal, src audit.Source, ttl time.Duration) (*federation.NewToken, error)
	Join(ctx context.Context, p *authz.Principal, src audit.Source, token string) (*federation.Peer, error)
}

// FederationHandlers serve /api/v1/federation/*: the seed's peers, sync
// and status, and netkeep's join tokens.
type FederationHandlers struct {
	Federation Federation
}

// federationStatusJSON is GET /api/v1/federation/status, as documented.
type federationStatusJSON struct {
	Enabled       bool           `json:"enabled"`
	LocalPeerID   string         `json:"local_peer_id"`
	LocalPeerName string         `json:"local_peer_name"`
	PeerCount     int            `json:"peer_count"`
	PeersByStatus map[string]int `json:"peers_by_status"`
	Running       bool           `json:"running"`
}

// peerJSON is a peer as GET /api/v1/federation/peers[/{id}] shows it (the
// seed has no example: snake_case as its status).
type peerJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	URL           string     `json:"url"`
	Status        string     `json:"status"`
	CAFingerprint string     `json:"ca_fingerprint"`
	AppCount      int        `json:"app_count"`
	LastSync      *time.Time `json:"last_sync"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
}

func viewPeer(p *federation.Peer) peerJSON {
	return peerJSON{ID: p.ID, Name: p.Name, URL: p.URL, Status: p.Status, CAFingerprint: p.CAFingerprint, AppCount: p.Apps,
		LastSync: p.LastSyncAt, LastError: p.LastError, CreatedAt: p.CreatedAt}
}

func viewPeers(ps []*federation.Peer) []peerJSON {
	out := make([]peerJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, viewPeer(p))
	}
	return out
}

// peerListJSON is GET /api/v1/federation/peers.
type peerListJSON struct {
	Peers []peerJSON `json:"peers"`
	Count int        `json:"count"`
}

// syncJSON is POST /api/v1/federation/sync's answer: every peer after it.
type syncJSON struct {
	Success bool       `json:"success"`
	Synced  int        `json:"synced"` // peers reached
	Peers   []peerJSON `json:"peers"`
}

// joinTokenRequest is POST /api/v1/federation/tokens's optional body.
type joinTokenRequest struct {
	ExpiresIn int64 `json:"expires_in"` // seconds; 0: the default
}

// joinTokenJSON is a new join token: shown once.
type joinTokenJSON struct {
	Token     string    `json:"token"`
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// joinRequest is POST /api/v1/federation/join's body.
type joinRequest struct {
	Token string `json:"token"`
}

func (h *FederationHandlers) status(w http.ResponseWriter, r *http.Request) {
	st, err := h.Federation.Status(r.Context(), api.PrincipalFrom(r.Context()))
	api.Respond(w, r, http.StatusOK, st, err, func(st *federation.Status) federationStatusJSON {
		return federationStatusJSON{Enabled: st.Enabled, LocalPeerID: st.LocalPeerID, LocalPeerName: st.LocalPeerName,
			PeerCount: st.PeerCount, PeersByStatus: st.PeersByStatus, Running: st.Running}
	})
}

func (h *FederationHandlers) listPeers(w http.ResponseWriter, r *http.Request) {
	ps, err := h.Federation.Peers(r.Context(), api.PrincipalFrom(r.Context()))
	api.Respond(w, r, http.StatusOK, ps, err, func(ps []*federation.Peer) peerListJSON {
		return peerListJSON{Peers: viewPeers(ps), Count: len(ps)}
	})
}

func (h *FederationHandlers) getPeer(w http.ResponseWriter, r *http.Request) {
	p, err := h.Federation.Peer(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	api.Respond(w, r, http.StatusOK, p, err, viewPeer)
}

func (h *FederationHandlers) deletePeer(w http.ResponseWriter, r *http.Request) {
	api.RespondEmpty(w, r, h.Federation.RemovePeer(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")))
}

func (h *FederationHandlers) sync(w http.ResponseWriter, r *http.Request) {
	res, err := h.Federation.Sync(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r))
	api.Respond(w, r, http.StatusOK, res, err, viewSync)
}

// viewSync is a sync's answer: every peer, and how many were reached.
func viewSync(res *federation.SyncResult) syncJSON {
	out := syncJSON{Success: true, Peers: viewPeers(res.Peers)}
	for _, p := range res.Peers {
		if p.Status == federation.StatusConnected {
			out.Synced++
		}
	}
	return out
}

func (h *FederationHandlers) createToken(w http.ResponseWriter, r *http.Request) {
	var in joinTokenRequest
	if r.ContentLength != 0 {
		if err := api.Decode(r, &in); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	if in.ExpiresIn < 0 {
		api.Error(w, r, fault.New(fault.Invalid, "expires_in must not be negative").WithDetails(map[string]any{"field": "expires_in"}))
		return
	}
	t, err := h.Federation.CreateToken(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), time.Duration(in.ExpiresIn)*time.Second)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusCreated, joinTokenJSON{Token: t.Token, ID: t.ID, ExpiresAt: t.ExpiresAt})
}

func (h *FederationHandlers) join(w http.ResponseWriter, r *http.Request) {
	var in joinRequest
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	p, err := h.Federation.Join(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.Token)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, viewPeer(p))
}
