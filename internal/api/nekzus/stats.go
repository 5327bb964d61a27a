package nekzus

import (
	"fmt"
	"net/http"

	"netkeep/internal/activity"
	"netkeep/internal/api"
	"netkeep/internal/api/live"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// recentActivity is GET /api/v1/activity/recent: a bare array of the
// newest entries without paging parameters, {activities, total, limit,
// offset} with limit or offset, as Nekzus answers.
func (h *Live) recentActivity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := api.IntParam(q.Get("limit"), activity.DefaultLimit, 1, activity.MaxLimit)
	if err != nil {
		api.Error(w, r, fault.Errorf(fault.Invalid, "limit must be an integer from 1 to %d", activity.MaxLimit))
		return
	}
	offset, err := api.IntParam(q.Get("offset"), 0, 0, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "offset must be a non-negative integer"))
		return
	}
	page, err := h.Activity.Recent(r.Context(), api.PrincipalFrom(r.Context()), limit, offset)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if !q.Has("limit") && !q.Has("offset") {
		api.WriteJSON(w, http.StatusOK, page.Items)
		return
	}
	api.WriteJSON(w, http.StatusOK, activityPageJSON{Activities: page.Items, Total: page.Total, Limit: limit, Offset: offset})
}

type activityPageJSON struct {
	Activities []activity.Item `json:"activities"`
	Total      int             `json:"total"`
	Limit      int             `json:"limit"`
	Offset     int             `json:"offset"`
}

// snapshot is what both statistics answers are computed from.
type snapshot struct {
	routes, apps, appsOnline, devices, online, discoveries int
	served, today                                          uint64
}

// stats counts what the caller may see. The stream must be readable
// (read:events), as the figures come from the same facets.
func (h *Live) stats(r *http.Request) (*snapshot, error) {
	p := api.PrincipalFrom(r.Context())
	if err := authz.Allow(p, live.ListenAction, authz.Any); err != nil {
		return nil, err
	}
	ctx := r.Context()
	s := &snapshot{online: h.Hub.DevicesOnline(p.GroupScope())}
	for _, c := range []struct {
		counter Counter
		into    *int
	}{
		{h.Counts.Routes, &s.routes}, {h.Counts.Apps, &s.apps}, {h.Counts.AppsOnline, &s.appsOnline},
		{h.Counts.Devices, &s.devices}, {h.Counts.Discoveries, &s.discoveries},
	} {
		n, err := count(ctx, c.counter, p)
		if err != nil {
			return nil, err
		}
		*c.into = n
	}
	s.devices = max(s.devices, s.online) // until the device facet counts, a socket proves a device
	s.served, s.today = h.Served()
	return s, nil
}

// statsSummary is GET /api/v1/stats.
func (h *Live) statsSummary(w http.ResponseWriter, r *http.Request) {
	s, err := h.stats(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, statsJSON{
		Routes:      statJSON{Value: s.routes, Trend: fmt.Sprintf("%d active", s.routes), TrendUp: s.routes > 0},
		Devices:     statJSON{Value: s.devices, Trend: fmt.Sprintf("%d online now", s.online), TrendUp: s.online > 0},
		Discoveries: statJSON{Value: s.discoveries, Trend: fmt.Sprintf("%d pending review", s.discoveries), TrendUp: false},
		Requests:    statJSON{Value: int(s.served), Trend: fmt.Sprintf("%d total", s.served), TrendUp: true},
	})
}

type statJSON struct {
	Value   int    `json:"value"`
	Trend   string `json:"trend"`
	TrendUp bool   `json:"trendUp"`
}

type statsJSON struct {
	Routes      statJSON `json:"routes"`
	Devices     statJSON `json:"devices"`
	Discoveries statJSON `json:"discoveries"`
	Requests    statJSON `json:"requests"`
}

// quickStats is GET /api/v1/stats/quick, Nekzus's figures for widgets.
// uptimePercent is the share of catalog applications passing their health
// check, 100 when there are none.
func (h *Live) quickStats(w http.ResponseWriter, r *http.Request) {
	s, err := h.stats(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	uptime := 100.0
	if s.apps > 0 {
		uptime = 100 * float64(s.appsOnline) / float64(s.apps)
	}
	api.WriteJSON(w, http.StatusOK, quickStatsJSON{
		ServicesTotal: s.apps, ServicesOnline: s.appsOnline, ServicesOffline: s.apps - s.appsOnline,
		DevicesTotal: s.devices, DevicesOnline: s.online, RoutesTotal: s.routes, RequestsToday: int(s.today),
		AvgLatency: float64(h.AvgLatency().Microseconds()) / 1000, UptimePercent: uptime,
	})
}

type quickStatsJSON struct {
	ServicesTotal   int     `json:"servicesTotal"`
	ServicesOnline  int     `json:"servicesOnline"`
	ServicesOffline int     `json:"servicesOffline"`
	DevicesTotal    int     `json:"devicesTotal"`
	DevicesOnline   int     `json:"devicesOnline"`
	RoutesTotal     int     `json:"routesTotal"`
	RequestsToday   int     `json:"requestsToday"`
	AvgLatency      float64 `json:"avgLatency"` // milliseconds
	UptimePercent   float64 `json:"uptimePercent"`
}
