package nekzus

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/activity"
	"netkeep/internal/api"
	"netkeep/internal/api/live"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// Live serves the dialect's live side: the event stream, the activity feed,
// statistics, instance information and webhooks.
type Live struct {
	Hub      *live.Hub
	Activity Activity
	Info     Info
	Counts   Counts
	// Served is how many requests this process answered: in all, and today
	// (UTC); AvgLatency their mean duration.
	Served     func() (total, today uint64)
	AvgLatency func() time.Duration
	// Limiter counts WebSocket connections per client address (WSLimit).
	Limiter *ratelimit.Limiter
}

// Activity is what these handlers need of the activity domain.
type Activity interface {
	Recent(ctx context.Context, p *authz.Principal, limit, offset int) (*activity.Page, error)
	RecordWebhook(ctx context.Context, p *authz.Principal, src audit.Source, a activity.WebhookActivity) (*activity.Item, error)
	Notify(ctx context.Context, p *authz.Principal, n activity.Notification) error
}

// Info describes this instance (GET /api/v1/admin/info, the stream's hello).
type Info struct {
	NexusID      string
	Version      string
	BuildDate    string
	Capabilities []string
}

// Counter counts the objects of a facet that p may see: its group's, every
// group's for super principals.
type Counter interface {
	Count(ctx context.Context, p *authz.Principal) (int, error)
}

// Counts are the facets statistics report on. A nil Counter counts zero:
// the facet does not exist (yet) in this build.
type Counts struct {
	Routes      Counter // proxied routes (app catalog)
	Apps        Counter // catalog applications
	AppsOnline  Counter // catalog applications whose health check passes
	Devices     Counter // paired devices
	Discoveries Counter // discovery proposals pending review
}

func count(ctx context.Context, c Counter, p *authz.Principal) (int, error) {
	if c == nil {
		return 0, nil
	}
	return c.Count(ctx, p)
}

// WSLimit is the per-address budget of WebSocket connections, from the
// dialect's rate-limit table: 6 a minute with bursts of 3, as 3 per 30 s.
var WSLimit = Limits[LimitWebSocket].Window()

// ws is GET /api/v1/ws: a request that is no WebSocket upgrade is refused
// in the dialect's envelope; the stream's protocol is the hub's.
func (h *Live) ws(w http.ResponseWriter, r *http.Request) {
	if !headerHas(r, "Connection", "upgrade") || !headerHas(r, "Upgrade", "websocket") {
		w.Header().Set("Upgrade", "websocket")
		api.Error(w, r, fault.New(fault.Invalid, "a WebSocket upgrade is required: connect with a WebSocket client"))
		return
	}
	h.Hub.ServeHTTP(w, r)
}

// headerHas reports whether a comma-separated header lists token.
func headerHas(r *http.Request, name, token string) bool {
	for _, v := range r.Header.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// adminInfo is GET /api/v1/admin/info.
func (h *Live) adminInfo(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, adminInfoJSON{Version: h.Info.Version, NexusID: h.Info.NexusID,
		Capabilities: h.Info.Capabilities, BuildDate: h.Info.BuildDate})
}

type adminInfoJSON struct {
	Version      string   `json:"version"`
	NexusID      string   `json:"nexusId"`
	Capabilities []string `json:"capabilities"`
	BuildDate    string   `json:"buildDate"`
}

// webhookActivity is POST /api/v1/webhooks/activity.
func (h *Live) webhookActivity(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message   string   `json:"message"`
		Icon      string   `json:"icon"`
		IconClass string   `json:"iconClass"`
		Details   string   `json:"details"`
		DeviceIDs []string `json:"deviceIds"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	it, err := h.Activity.RecordWebhook(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), activity.WebhookActivity{
		Message: in.Message, Icon: in.Icon, IconClass: in.IconClass, Details: in.Details, DeviceIDs: in.DeviceIDs})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, webhookActivityJSON{Success: true, EventID: it.ID})
}

type webhookActivityJSON struct {
	Success bool   `json:"success"`
	EventID string `json:"eventId"`
}

// webhookNotify is POST /api/v1/webhooks/notify.
func (h *Live) webhookNotify(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		DeviceIDs []string        `json:"deviceIds"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if string(in.Data) == "null" {
		in.Data = nil
	}
	err := h.Activity.Notify(r.Context(), api.PrincipalFrom(r.Context()), activity.Notification{
		Type: in.Type, Data: in.Data, DeviceIDs: in.DeviceIDs})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, webhookNotifyJSON{Success: true, Sent: true})
}

type webhookNotifyJSON struct {
	Success bool `json:"success"`
	Sent    bool `json:"sent"`
}
