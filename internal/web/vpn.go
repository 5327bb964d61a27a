package web

import (
	"html/template"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
	"netkeep/internal/vpnconfig"
)

// VPN: the administrators' view of gateways, networks and access rules,
// and every user's own client configurations.

type vpnView struct {
	Gateways []*gateway.Gateway
	Networks []*gateway.Network
	Rules    []*gateway.Rule
}

func (h *Handlers) vpnPage(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	var v vpnView
	var err error
	if v.Gateways, err = h.Gateways.AdminGateways(r.Context(), p); err == nil {
		if v.Networks, err = h.Gateways.Networks(r.Context(), p); err == nil {
			v.Rules, err = h.Gateways.Rules(r.Context(), p)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "vpn", &view{Title: "VPN gateways", Section: "vpn", Flash: flash(r), Data: v})
}

// configsView is "my VPN": the gateways the user may use, and the
// configuration just generated.
type configsView struct {
	Gateways  []*gateway.Gateway
	Generated *vpnconfig.Generated
	// WireGuard's config as a QR code for the mobile app (the config
	// holds the private key: shown once, on the answer that made it).
	QR       template.URL
	FileName string
}

func (h *Handlers) configsPage(w http.ResponseWriter, r *http.Request) {
	gws, err := h.Gateways.UsableGateways(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "configs", &view{Title: "My VPN", Section: "configs", Flash: flash(r), Data: configsView{Gateways: gws}})
}

func (h *Handlers) generateConfig(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	g, err := h.Configs.Generate(r.Context(), p, api.Source(r), r.PostFormValue("gateway"), "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	gws, err := h.Gateways.UsableGateways(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := configsView{Gateways: gws, Generated: g}
	if g.Config.Protocol == vpnconfig.WireGuard {
		f, err := h.Configs.Download(r.Context(), p, api.Source(r), g.Config.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if v.QR, err = qrImage(string(f.Body)); err != nil {
			h.fail(w, r, err)
			return
		}
		v.FileName = f.Name
	}
	h.render(w, r, http.StatusOK, "configs", &view{Title: "My VPN", Section: "configs", Flash: "Configuration generated.", Data: v})
}

// downloadConfig sends the configuration file (.ovpn or WireGuard .conf).
func (h *Handlers) downloadConfig(w http.ResponseWriter, r *http.Request) {
	f, err := h.Configs.Download(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(f.Body)
}
