package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/device"
	"netkeep/internal/fault"
)

// deviceJSON is a device as Nekzus shows it; platform, model, online and
// lastSeen are netkeep's additions.
type deviceJSON struct {
	DeviceID   string     `json:"deviceId"`
	DeviceName string     `json:"deviceName"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastSeenAt *time.Time `json:"lastSeenAt"`
	LastSeen   *time.Time `json:"lastSeen"`
	Platform   string     `json:"platform"`
	Model      string     `json:"model"`
	Online     bool       `json:"online"`
}

func (h *Handlers) viewDevice(d *device.Device) deviceJSON {
	return deviceJSON{DeviceID: d.ID, DeviceName: d.Name, Scopes: nonNil(d.Scopes), CreatedAt: d.CreatedAt,
		LastSeenAt: d.LastSeenAt, LastSeen: d.LastSeenAt, Platform: d.Platform, Model: d.Model,
		Online: h.Presence != nil && h.Presence.Online(d.ID)}
}

type devicesPageJSON struct {
	Devices []deviceJSON `json:"devices"`
	Total   int          `json:"total"`
	Limit   int          `json:"limit"`
	Offset  int          `json:"offset"`
}

// listDevices answers a bare array without paging parameters and the
// paginated object with limit or offset, as Nekzus documents.
func (h *Handlers) listDevices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := api.IntParam(q.Get("limit"), -1, -1, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "limit must be -1 (no limit) or a non-negative integer"))
		return
	}
	offset, err := api.IntParam(q.Get("offset"), 0, 0, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "offset must be a non-negative integer"))
		return
	}
	ds, total, err := h.Devices.List(r.Context(), api.PrincipalFrom(r.Context()), device.Page{Limit: limit, Offset: offset})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]deviceJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, h.viewDevice(d))
	}
	if !q.Has("limit") && !q.Has("offset") {
		api.WriteJSON(w, http.StatusOK, out)
		return
	}
	api.WriteJSON(w, http.StatusOK, devicesPageJSON{Devices: out, Total: total, Limit: limit, Offset: offset})
}

func (h *Handlers) getDevice(w http.ResponseWriter, r *http.Request) {
	d, err := h.Devices.Get(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("deviceId"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, h.viewDevice(d))
}

func (h *Handlers) updateDevice(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeviceName *string `json:"deviceName"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	d, err := h.Devices.Update(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("deviceId"),
		device.Update{Name: in.DeviceName})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, h.viewDevice(d))
}

type revokedJSON struct {
	Status    string `json:"status"`
	DeviceID  string `json:"deviceId"`
	Message   string `json:"message"`
	RevokedAt string `json:"revokedAt"`
}

// revokeDevice ends a device's access. revokedAt is the time (RFC 3339);
// Nekzus's example shows "now".
func (h *Handlers) revokeDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("deviceId")
	at, err := h.Devices.Revoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, revokedJSON{Status: "revoked", DeviceID: id,
		Message: "Device access has been revoked. Existing tokens are now invalid.", RevokedAt: at.UTC().Format(time.RFC3339)})
}
