package peering

import (
	"context"
	"net/http"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/federation"
)

// Federation is what the listener needs of the federation domain.
type Federation interface {
	Authenticate(ctx context.Context, fingerprint string) (*federation.Peer, error)
	Redeem(ctx context.Context, fingerprint string, req federation.JoinRequest) (*federation.JoinAnswer, error)
	Shared(peer *federation.Peer) (*federation.Shared, error)
}

// Apps serves a peer's request for one of this instance's apps; r's path
// is /apps/{appId}/... with the appId path value set (proxy.ServePeer).
type Apps interface {
	ServePeer(w http.ResponseWriter, r *http.Request)
}

// Handler is the federation listener's HTTP handler. Serve it with the
// federation's ServerTLS: every caller has presented a verified chain.
type Handler struct {
	Federation Federation
	Apps       Apps
}

// Routes returns the handler of the federation paths.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /federation/v1/join", h.join)
	mux.HandleFunc("GET /federation/v1/catalog", h.peer(h.catalog))
	mux.HandleFunc("/federation/v1/apps/{appId}/", h.peer(h.app))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, fault.New(fault.NotFound, "not a federation path"))
	})
	return mux
}

func fail(w http.ResponseWriter, r *http.Request, err error) { api.ErrorAs(w, r, api.Own, err) }

// join serves POST /federation/v1/join: a joining instance presents a
// token's secret with the certificate it will be pinned by.
func (h *Handler) join(w http.ResponseWriter, r *http.Request) {
	fp, err := federation.Presented(r.TLS)
	if err != nil {
		fail(w, r, err)
		return
	}
	var req federation.JoinRequest
	if err := api.Decode(r, &req); err != nil {
		fail(w, r, err)
		return
	}
	ans, err := h.Federation.Redeem(r.Context(), fp, req)
	if err != nil {
		fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, ans)
}

// peer admits only a pinned peer's certificate.
func (h *Handler) peer(next func(http.ResponseWriter, *http.Request, *federation.Peer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fp, err := federation.Presented(r.TLS)
		if err != nil {
			fail(w, r, err)
			return
		}
		p, err := h.Federation.Authenticate(r.Context(), fp)
		if err != nil {
			fail(w, r, err)
			return
		}
		next(w, r, p)
	}
}

// catalog serves GET /federation/v1/catalog: the apps shared with peers.
func (h *Handler) catalog(w http.ResponseWriter, r *http.Request, p *federation.Peer) {
	out, err := h.Federation.Shared(p)
	if err != nil {
		fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// app serves /federation/v1/apps/{appId}/...: the request goes on to the
// app as the proxy's /apps/{appId}/... would.
func (h *Handler) app(w http.ResponseWriter, r *http.Request, _ *federation.Peer) {
	id := r.PathValue("appId")
	rest := strings.TrimPrefix(r.URL.Path, "/federation/v1/apps/"+id)
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/apps/" + id + rest
	r2.URL.RawPath = ""
	r2.SetPathValue("appId", id)
	h.Apps.ServePeer(w, r2)
}
