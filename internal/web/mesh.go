package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
)

// Mesh: WireGuard networks, their nodes (approve the pending ones) and
// their access keys with the line that joins a host.

func (h *Handlers) meshPage(w http.ResponseWriter, r *http.Request) {
	nets, err := h.Mesh.ListNetworks(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "mesh", &view{Title: "Mesh networks", Section: "mesh", Flash: flash(r), Data: nets})
}

func (h *Handlers) createNetwork(w http.ResponseWriter, r *http.Request) {
	f := mesh.NetworkFields{NetID: strings.TrimSpace(r.PostFormValue("netid"))}
	if v := strings.TrimSpace(r.PostFormValue("range")); v != "" {
		f.AddressRange = &v
	}
	on := r.PostFormValue("approval") == "on"
	f.RequireApproval = &on
	n, err := h.Mesh.CreateNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/mesh/"+url.PathEscape(n.NetID), "Network created.")
}

// nodePageSize pages a network's nodes: a network may have 10,000.
const nodePageSize = 100

// networkView is one network's page: its nodes (a page of them, pending
// ones first), its access keys and their join lines.
type networkView struct {
	Network    *mesh.Network
	Nodes      []*mesh.Node
	Total      int
	Pending    int
	Offset     int
	Prev, Next string
	Keys       []accessKey
	Created    *accessKey // the key just created
	Now        time.Time
}

type accessKey struct {
	*mesh.AccessKey
	Join string // netkeep agent join <accessstring>
}

// Online reports whether a node checked in within three of its network's
// check-in intervals.
func (v *networkView) Online(n *mesh.Node) bool {
	if n.LastCheckIn.IsZero() {
		return false
	}
	return v.Now.Sub(n.LastCheckIn) < 3*time.Duration(v.Network.CheckInInterval)*time.Second
}

func (h *Handlers) networkView(r *http.Request) (*networkView, error) {
	p, netid := api.PrincipalFrom(r.Context()), r.PathValue("netid")
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(offset, 0)
	pg, err := h.Mesh.ListNodePage(r.Context(), p, netid, offset, nodePageSize)
	if err != nil {
		return nil, err
	}
	v := &networkView{Network: pg.Network, Nodes: pg.Nodes, Total: pg.Total, Pending: pg.Pending, Offset: offset, Now: time.Now()}
	base := "/ui/mesh/" + url.PathEscape(netid) + "?offset="
	if offset > 0 {
		v.Prev = base + strconv.Itoa(max(0, offset-nodePageSize))
	}
	if offset+nodePageSize < pg.Total {
		v.Next = base + strconv.Itoa(offset+nodePageSize)
	}
	keys, err := h.Mesh.ListKeys(r.Context(), p, netid)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		v.Keys = append(v.Keys, h.accessKey(r, netid, k))
	}
	return v, nil
}

func (h *Handlers) accessKey(r *http.Request, netid string, k *mesh.AccessKey) accessKey {
	as := meshwire.AccessString{Server: api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders), Network: netid, Key: k.Value}
	return accessKey{AccessKey: k, Join: "netkeep agent join " + as.Encode()}
}

func (h *Handlers) networkPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.networkView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "network", &view{Title: "Mesh network " + v.Network.NetID, Section: "mesh", Flash: flash(r), Data: v})
}

func (h *Handlers) approveNode(w http.ResponseWriter, r *http.Request) {
	netid := r.PathValue("netid")
	if _, err := h.Mesh.Approve(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid, r.PathValue("mac")); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, "/ui/mesh/"+url.PathEscape(netid)), "Node approved.")
}

func (h *Handlers) deleteNode(w http.ResponseWriter, r *http.Request) {
	netid := r.PathValue("netid")
	if err := h.Mesh.DeleteNode(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid, r.PathValue("mac")); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, "/ui/mesh/"+url.PathEscape(netid)), "Node removed.")
}

func (h *Handlers) createAccessKey(w http.ResponseWriter, r *http.Request) {
	netid := r.PathValue("netid")
	f := mesh.KeyFields{Name: strings.TrimSpace(r.PostFormValue("name"))}
	f.Uses, _ = strconv.Atoi(r.PostFormValue("uses"))
	k, err := h.Mesh.CreateKey(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.networkView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ak := h.accessKey(r, netid, k)
	v.Created = &ak
	h.render(w, r, http.StatusOK, "network", &view{Title: "Mesh network " + v.Network.NetID, Section: "mesh", Flash: "Access key created.", Data: v})
}

func (h *Handlers) deleteAccessKey(w http.ResponseWriter, r *http.Request) {
	netid := r.PathValue("netid")
	if err := h.Mesh.DeleteKey(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid, r.PathValue("name")); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/mesh/"+url.PathEscape(netid), "Access key deleted.")
}
