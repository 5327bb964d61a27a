package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/device"
)

// Devices: the phones and desktops paired with netkeep (Nekzus's app) that
// the caller may see, a pairing QR code to add one, and revocation.

type devicesView struct {
	Devices []*device.Device
	Total   int
	// A pairing just asked for: the QR code the app scans, its code and
	// when it expires (this answer only).
	QR      template.URL
	Code    string
	Expires time.Time
}

func (h *Handlers) devicesView(r *http.Request) (*devicesView, error) {
	ds, total, err := h.Devices.List(r.Context(), api.PrincipalFrom(r.Context()), device.Page{Limit: 100})
	if err != nil {
		return nil, err
	}
	return &devicesView{Devices: ds, Total: total}, nil
}

func (h *Handlers) devicesPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.devicesView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "devices", &view{Title: "Devices", Section: "devices", Flash: flash(r), Data: v})
}

// pairDevice makes a pairing code and shows it as the QR code Nekzus's
// app scans: {"u": the server's URL, "c": the code}, as GET
// /api/v1/auth/qr gives it.
func (h *Handlers) pairDevice(w http.ResponseWriter, r *http.Request) {
	code, expires, err := h.Devices.NewCode(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	text, _ := json.Marshal(struct {
		U string `json:"u"`
		C string `json:"c"`
	}{api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders), code})
	img, err := qrImage(string(text))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.devicesView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.QR, v.Code, v.Expires = img, code, expires
	h.render(w, r, http.StatusOK, "devices", &view{Title: "Devices", Section: "devices", Data: v})
}

func (h *Handlers) revokeDevice(w http.ResponseWriter, r *http.Request) {
	if _, err := h.Devices.Revoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/devices", "Device revoked: its tokens no longer work.")
}
