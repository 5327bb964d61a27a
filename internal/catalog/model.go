package catalog

import (
	"time"
)

// App is one application of the catalog. Its ID is also its proxy path
// (/apps/{ID}/), so IDs are unique across every group: the proxy has one
// namespace.
type App struct {
	ID        string
	GroupID   int64
	OwnerID   int64 // the user who created it (0: the server, a route file)
	Name      string
	Icon      string
	Tags      []string
	Endpoints map[string]string // e.g. "lan": "http://grafana:3000"
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Auth says who may use a route through the proxy.
type Auth string

// The route access modes.
const (
	// AuthToken requires a credential netkeep accepts (a user or device
	// token, an API key, the browser session cookie) that holds the
	// route's scopes within the app's group.
	AuthToken Auth = "token"
	// AuthLocal lets callers from loopback and private (LAN) addresses in
	// without a credential; others need one as for AuthToken.
	AuthLocal Auth = "local"
	// AuthPublic lets anyone in: the upstream does its own authentication.
	AuthPublic Auth = "public"
)

// The route statuses.
const (
	StatusActive   = "ACTIVE"
	StatusDisabled = "DISABLED"
)

// Route is how the proxy reaches an app: one route per app, served under
// PathBase.
type Route struct {
	ID          string
	AppID       string
	GroupID     int64
	To          string // upstream base URL: http(s)://host[:port][/path]
	StripPrefix bool   // drop /apps/{appId} before forwarding
	WebSocket   bool   // allow Upgrade: websocket
	Scopes      []string
	Auth        Auth
	Timeout     time.Duration // how long to wait for the upstream's response headers
	Cache       bool          // keep cacheable responses (Cache-Control) in memory
	Status      string        // StatusActive or StatusDisabled
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PathBase is where the proxy serves the route.
func (r *Route) PathBase() string { return PathBase(r.AppID) }

// PathBase is the proxy path of an app.
func PathBase(appID string) string { return "/apps/" + appID + "/" }

// Entry is an app with its route: what the proxy and the listings use.
type Entry struct {
	App   *App
	Route *Route
	// Remote is set for a peer's app (federation); nil for this
	// instance's own.
	Remote *Remote
}

// Health is the last check of a route's upstream.
type Health struct {
	Status       string // HealthHealthy, HealthUnhealthy or HealthUnknown
	LastCheck    time.Time
	ResponseTime time.Duration
	StatusCode   int // 0 when no answer came
}

// The health statuses.
const (
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthUnknown   = "unknown"
)

// Icon is an app's favicon as fetched from its upstream.
type Icon struct {
	ContentType string
	Data        []byte
	FetchedAt   time.Time
}

// DefaultTimeout is a route's upstream timeout when none is given.
const DefaultTimeout = 30 * time.Second

// The event topics and actions the catalog publishes (after commit).
const (
	TopicApp       = "app"       // ID: the app id
	TopicDiscovery = "discovery" // ID: the proposal id

	ActionCreated      = "created"
	ActionUpdated      = "updated"
	ActionDeleted      = "deleted"
	ActionHealthChange = "health_change"
	ActionProposed     = "proposed"
	ActionRemoved      = "removed"
)
