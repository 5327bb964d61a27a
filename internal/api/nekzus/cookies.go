package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
)

// appSessionJSON summarises a device's cookies for one app; never values.
type appSessionJSON struct {
	AppID       string     `json:"appId"`
	CookieCount int        `json:"cookieCount"`
	LastUpdated time.Time  `json:"lastUpdated"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

type sessionsJSON struct {
	Sessions []appSessionJSON `json:"sessions"`
}

func (h *Handlers) listSessionCookies(w http.ResponseWriter, r *http.Request) {
	ss, err := h.Devices.Sessions(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]appSessionJSON, 0, len(ss))
	for _, s := range ss {
		out = append(out, appSessionJSON{AppID: s.AppID, CookieCount: s.CookieCount, LastUpdated: s.LastUpdated, ExpiresAt: s.ExpiresAt})
	}
	api.WriteJSON(w, http.StatusOK, sessionsJSON{Sessions: out})
}

// clearSessionCookies serves both deletes: every app's, or {appId}'s.
func (h *Handlers) clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	if err := h.Devices.ClearSessions(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("appId")); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
