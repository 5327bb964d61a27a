package nekzus

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"netkeep/internal/api"
)

// listApps serves GET /api/v1/apps: the caller's group's apps with their
// health.
func (h *AppHandlers) listApps(w http.ResponseWriter, r *http.Request) {
	entries, err := h.Catalog.Apps(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	base := api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders)
	out := make([]appJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, h.viewApp(base, e))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// favicon serves GET /api/v1/apps/{appId}/favicon: the upstream's
// favicon, fetched once and kept, or a generated fallback icon.
func (h *AppHandlers) favicon(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	appID := r.PathValue("appId")
	icon, err := h.Catalog.Icon(r.Context(), p, appID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", "private, max-age=86400")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if icon == nil {
		hd.Set("Content-Type", "image/svg+xml")
		_, _ = w.Write(fallbackIcon(appID))
		return
	}
	hd.Set("Content-Type", icon.ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(icon.Data)))
	_, _ = w.Write(icon.Data)
}

// fallbackIcon is a tile with the app's initial, coloured by its id.
func fallbackIcon(appID string) []byte {
	r, _ := utf8.DecodeRuneInString(appID)
	initial := html.EscapeString(strings.ToUpper(string(unicode.ToUpper(r))))
	var hue uint32
	for _, c := range appID {
		hue = hue*31 + uint32(c)
	}
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">`+
		`<rect width="64" height="64" rx="14" fill="hsl(%d,55%%,45%%)"/>`+
		`<text x="32" y="43" font-family="sans-serif" font-size="32" font-weight="bold" fill="#fff" text-anchor="middle">%s</text></svg>`,
		hue%360, initial)
}

// serviceHealthJSON is GET /api/v1/services/{appId}/health.
type serviceHealthJSON struct {
	AppID        string     `json:"appId"`
	Status       string     `json:"status"`
	LastCheck    *time.Time `json:"lastCheck"`
	ResponseTime int64      `json:"responseTime"` // milliseconds
	StatusCode   int        `json:"statusCode"`
}

func (h *AppHandlers) serviceHealth(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appId")
	hl, err := h.Catalog.Health(r.Context(), api.PrincipalFrom(r.Context()), appID)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, serviceHealthJSON{AppID: appID, Status: hl.Status, LastCheck: timeOrNil(hl.LastCheck),
		ResponseTime: hl.ResponseTime.Milliseconds(), StatusCode: hl.StatusCode})
}
