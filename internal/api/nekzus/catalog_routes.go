package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/catalog"
)

// routeJSON is a route as GET /api/v1/routes lists it and as its create
// and update calls answer. auth, timeout (seconds) and cache are netkeep's
// additions.
type routeJSON struct {
	RouteID     string         `json:"routeId"`
	AppID       string         `json:"appId"`
	PathBase    string         `json:"pathBase"`
	To          string         `json:"to"`
	StripPrefix bool           `json:"stripPrefix"`
	WebSocket   bool           `json:"websocket"`
	Scopes      []string       `json:"scopes"`
	Status      string         `json:"status"`
	Auth        catalog.Auth   `json:"auth"`
	Timeout     float64        `json:"timeout"`
	Cache       bool           `json:"cache"`
	HealthInfo  healthInfoJSON `json:"healthInfo"`
}

type healthInfoJSON struct {
	Status       string     `json:"status"`
	LastCheck    *time.Time `json:"lastCheck"`
	ResponseTime int64      `json:"responseTime"` // milliseconds
}

func (h *AppHandlers) viewRoute(e catalog.Entry) routeJSON {
	hl := h.Catalog.HealthOf(e.App.ID)
	rt := e.Route
	return routeJSON{
		RouteID: rt.ID, AppID: rt.AppID, PathBase: rt.PathBase(), To: rt.To, StripPrefix: rt.StripPrefix,
		WebSocket: rt.WebSocket, Scopes: rt.Scopes, Status: rt.Status, Auth: rt.Auth, Timeout: rt.Timeout.Seconds(),
		Cache: rt.Cache, HealthInfo: healthInfoJSON{Status: hl.Status, LastCheck: timeOrNil(hl.LastCheck), ResponseTime: hl.ResponseTime.Milliseconds()},
	}
}

// routeInputJSON is the body of POST /api/v1/routes and PUT
// /api/v1/routes/{routeId}: the route's fields and its app's. Fields left
// out keep their value on update.
type routeInputJSON struct {
	RouteID     *string            `json:"routeId"`
	AppID       *string            `json:"appId"`
	Name        *string            `json:"name"`
	Icon        *string            `json:"icon"`
	Tags        *[]string          `json:"tags"`
	Endpoints   *map[string]string `json:"endpoints"`
	PathBase    *string            `json:"pathBase"`
	To          *string            `json:"to"`
	StripPrefix *bool              `json:"stripPrefix"`
	WebSocket   *bool              `json:"websocket"`
	Scopes      *[]string          `json:"scopes"`
	Auth        *catalog.Auth      `json:"auth"`
	Timeout     *float64           `json:"timeout"` // seconds
	Cache       *bool              `json:"cache"`
	Status      *string            `json:"status"`
}

// input is the domain input.
func (in routeInputJSON) input() catalog.RouteInput {
	out := catalog.RouteInput{RouteID: in.RouteID, AppID: in.AppID, Name: in.Name, Icon: in.Icon, Tags: in.Tags,
		Endpoints: in.Endpoints, PathBase: in.PathBase, To: in.To, StripPrefix: in.StripPrefix, WebSocket: in.WebSocket,
		Scopes: in.Scopes, Auth: in.Auth, Cache: in.Cache, Status: in.Status}
	if in.Timeout != nil {
		d := time.Duration(*in.Timeout * float64(time.Second))
		out.Timeout = &d
	}
	return out
}

func (h *AppHandlers) listRoutes(w http.ResponseWriter, r *http.Request) {
	entries, err := h.Catalog.Apps(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]routeJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, h.viewRoute(e))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// createRoute serves POST /api/v1/routes: a new app and its route in the
// caller's group (201).
func (h *AppHandlers) createRoute(w http.ResponseWriter, r *http.Request) {
	var body routeInputJSON
	if err := api.Decode(r, &body); err != nil {
		api.Error(w, r, err)
		return
	}
	e, err := h.Catalog.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), body.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, h.viewRoute(e))
}

// updateRoute serves PUT /api/v1/routes/{routeId}.
func (h *AppHandlers) updateRoute(w http.ResponseWriter, r *http.Request) {
	var body routeInputJSON
	if err := api.Decode(r, &body); err != nil {
		api.Error(w, r, err)
		return
	}
	e, err := h.Catalog.UpdateRoute(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("routeId"), body.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, h.viewRoute(e))
}

func (h *AppHandlers) deleteRoute(w http.ResponseWriter, r *http.Request) {
	if err := h.Catalog.DeleteRoute(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("routeId")); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
