package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/radius/nas"
)

// RADIUS: the access points and controllers (NAS clients) of the group,
// and the sessions their accounting reports.

type radiusView struct {
	Clients  []*nas.Client
	Sessions []*nas.Session
	Online   int
	Vendors  []string
	// Created is the client just created, with its shared secret: shown
	// on this answer only.
	Created *nas.Client
}

var vendors = []string{"generic", "hostapd", "cisco", "meraki", "aruba", "ruckus"}

func (h *Handlers) radiusView(r *http.Request) (*radiusView, error) {
	p := api.PrincipalFrom(r.Context())
	clients, err := h.Radius.List(r.Context(), p)
	if err != nil {
		return nil, err
	}
	sessions, total, err := h.Radius.Sessions(r.Context(), p, nas.SessionFilter{Limit: 100})
	if err != nil {
		return nil, err
	}
	return &radiusView{Clients: clients, Sessions: sessions, Online: total, Vendors: vendors}, nil
}

func (h *Handlers) radiusPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.radiusView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "radius", &view{Title: "RADIUS", Section: "radius", Flash: flash(r), Data: v})
}

// createRadiusClient adds a client. An empty secret is generated; either
// way the secret is shown once, on the answer to this request.
func (h *Handlers) createRadiusClient(w http.ResponseWriter, r *http.Request) {
	secret := r.PostFormValue("secret")
	if secret == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
	}
	in := nas.NewClient{Name: strings.TrimSpace(r.PostFormValue("name")), Address: strings.TrimSpace(r.PostFormValue("address")),
		Secret: secret, Vendor: nas.Vendor(r.PostFormValue("vendor")), SSIDs: ssidList(r.PostFormValue("ssids"))}
	c, err := h.Radius.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.radiusView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c.Secret = secret
	v.Created = c
	h.render(w, r, http.StatusOK, "radius", &view{Title: "RADIUS", Section: "radius", Flash: "RADIUS client created.", Data: v})
}

func (h *Handlers) deleteRadiusClient(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.Radius.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/radius", "RADIUS client deleted.")
}

// ssidList reads a comma-separated list of SSIDs; an SSID may hold spaces.
func ssidList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
