package nekzus

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"netkeep/internal/api"
	"netkeep/internal/device"
	"netkeep/internal/fault"
)

// qrPayload is what the QR code encodes: where the server is and the code.
type qrPayload struct {
	U string `json:"u"`
	C string `json:"c"`
}

type qrJSON struct {
	QR   qrPayload `json:"qr"`
	Code string    `json:"code"`
}

// qrPixels is the PNG's side: a phone reads it off a screen at arm's length.
const qrPixels = 320

// qr makes a pairing code for the caller's group and answers it as JSON or,
// with ?format=png, as the QR code a phone scans.
func (h *Handlers) qr(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "png" {
		api.Error(w, r, fault.New(fault.Invalid, "format must be json or png").WithDetails(map[string]any{"field": "format"}))
		return
	}
	code, _, err := h.Devices.NewCode(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	payload := qrPayload{U: h.baseURL(r), C: code}
	if format != "png" {
		api.WriteJSON(w, http.StatusOK, qrJSON{QR: payload, Code: code})
		return
	}
	text, _ := json.Marshal(payload)
	png, err := qrcode.Encode(string(text), qrcode.Medium, qrPixels)
	if err != nil {
		api.Error(w, r, fault.New(fault.Internal, "drawing the QR code").Wrap(err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
}

func (h *Handlers) baseURL(r *http.Request) string {
	return api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders)
}

// pairingJSON is the redeemed code's answer: all a phone needs to pair.
type pairingJSON struct {
	BaseURL        string   `json:"baseUrl"`
	Name           string   `json:"name"`
	SPKIPins       []string `json:"spkiPins"`
	BootstrapToken string   `json:"bootstrapToken"`
	Capabilities   []string `json:"capabilities"`
	NexusID        string   `json:"nexusId"`
	ExpiresAt      int64    `json:"expiresAt"`
}

// reasonMissingHeader is Nekzus's MISSING_HEADER.
const reasonMissingHeader fault.Reason = "missing_header"

var errNoPairingHeader = fault.New(fault.Invalid, "X-Pairing-Request header required").
	WithReason(reasonMissingHeader).WithDetails(map[string]any{"header": "X-Pairing-Request"})

// redeem serves POST /api/v1/pair ({"code"}) and GET /api/v1/pair/{code}.
// Both require X-Pairing-Request: true, which a browser cannot send across
// sites without a preflight: a page cannot make a visitor redeem a code.
func (h *Handlers) redeem(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("X-Pairing-Request"), "true") {
		api.Error(w, r, errNoPairingHeader)
		return
	}
	code := r.PathValue("code")
	if r.Method == http.MethodPost {
		var in struct {
			Code string `json:"code"`
		}
		if err := api.Decode(r, &in); err != nil {
			api.Error(w, r, err)
			return
		}
		code = in.Code
	}
	red, err := h.Devices.Redeem(r.Context(), api.Source(r), code, h.baseURL(r))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, pairingJSON{
		BaseURL: red.BaseURL, Name: red.Name, SPKIPins: nonNil(red.SPKIPins), BootstrapToken: red.BootstrapToken,
		Capabilities: nonNil(red.Capabilities), NexusID: red.NexusID, ExpiresAt: red.ExpiresAt.Unix(),
	})
}

// tokenJSON answers pairing and a device's refresh.
type tokenJSON = renewalJSON

func deviceToken(t *device.Token) tokenJSON {
	return tokenJSON{AccessToken: t.AccessToken, ExpiresIn: int(t.ExpiresIn / time.Second), Scopes: t.Scopes, DeviceID: t.DeviceID}
}

// pair serves POST /api/v1/auth/pair: a bootstrap token and the device's
// description in, the device's token out.
func (h *Handlers) pair(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Device struct {
			ID        string `json:"id"`
			Model     string `json:"model"`
			Platform  string `json:"platform"`
			PushToken string `json:"pushToken"`
			Name      string `json:"name"`
		} `json:"device"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	_, tok, err := h.Devices.Pair(r.Context(), api.Source(r), api.BearerToken(r), device.NewDevice{
		ID: in.Device.ID, Model: in.Device.Model, Platform: in.Device.Platform, PushToken: in.Device.PushToken, Name: in.Device.Name,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, deviceToken(tok))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
