package nekzus

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
)

// Catalog is what the apps, routes, discovery and health handlers need of
// the catalog domain.
type Catalog interface {
	Apps(ctx context.Context, p *authz.Principal) ([]catalog.Entry, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in catalog.RouteInput) (catalog.Entry, error)
	UpdateRoute(ctx context.Context, p *authz.Principal, src audit.Source, routeID string, in catalog.RouteInput) (catalog.Entry, error)
	DeleteRoute(ctx context.Context, p *authz.Principal, src audit.Source, routeID string) error
	Icon(ctx context.Context, p *authz.Principal, appID string) (*catalog.Icon, error)
	HealthOf(appID string) catalog.Health
	Health(ctx context.Context, p *authz.Principal, appID string) (catalog.Health, error)
	Proposals(ctx context.Context, p *authz.Principal) ([]*catalog.Proposal, error)
	Approve(ctx context.Context, p *authz.Principal, src audit.Source, id string, port int) (*catalog.Proposal, catalog.Entry, error)
	Dismiss(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*catalog.Proposal, error)
	Rediscover(ctx context.Context, p *authz.Principal, src audit.Source) (catalog.Rediscovery, error)
}

// AppHandlers serves the app catalog, its routes, discovery, service
// health and the reverse proxy under /apps/{appId}/.
type AppHandlers struct {
	Catalog Catalog
	// Proxy serves /apps/{appId}/*; it authenticates through the
	// router's Authenticator (Optional) and applies each route's mode.
	Proxy http.Handler
	// PublicURL and TrustProxyHeaders make an app's url (api.BaseURL).
	PublicURL         string
	TrustProxyHeaders bool
}

// appJSON is an app as GET /api/v1/apps lists it.
type appJSON struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Icon            string            `json:"icon"`
	Tags            []string          `json:"tags"`
	Endpoints       map[string]string `json:"endpoints"`
	ProxyPath       string            `json:"proxyPath"`
	URL             string            `json:"url"`
	FaviconURL      string            `json:"faviconURL"`
	HealthStatus    string            `json:"healthStatus"`
	LastHealthCheck *time.Time        `json:"lastHealthCheck"`
	// netkeep's marks of a federation peer's app (absent for local ones).
	Remote   bool   `json:"remote,omitempty"`
	PeerID   string `json:"peerId,omitempty"`
	PeerName string `json:"peerName,omitempty"`
}

func (h *AppHandlers) viewApp(base string, e catalog.Entry) appJSON {
	hl := h.Catalog.HealthOf(e.App.ID)
	v := appJSON{
		ID: e.App.ID, Name: e.App.Name, Icon: e.App.Icon, Tags: e.App.Tags, Endpoints: e.App.Endpoints,
		ProxyPath: e.Route.PathBase(), URL: base + e.Route.PathBase(),
		FaviconURL: "/api/v1/apps/" + e.App.ID + "/favicon", HealthStatus: hl.Status, LastHealthCheck: timeOrNil(hl.LastCheck),
	}
	if v.Endpoints == nil {
		v.Endpoints = map[string]string{}
	}
	if rm := e.Remote; rm != nil {
		v.Remote, v.PeerID, v.PeerName = true, rm.PeerID, rm.PeerName
	}
	return v
}
