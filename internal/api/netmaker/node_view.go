package netmaker

import (
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/authz"
)

// peers answers a node's WireGuard view, a JSON array of peers, written
// straight from the cached entries without re-encoding.
func (h *MeshHandlers) peers(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	list, err := h.Mesh.Peers(r.Context(), p, r.PathValue("network"), r.PathValue("macaddress"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(list.Size()+1))
	w.WriteHeader(http.StatusOK)
	if _, err := list.WriteTo(w); err == nil {
		_, _ = w.Write([]byte{'\n'})
	}
}

// config answers the node's wg-quick configuration as a download. Its
// PrivateKey line is a placeholder: netkeep never has the key.
func (h *MeshHandlers) config(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	netid := r.PathValue("network")
	conf, err := h.Mesh.Config(r.Context(), p, netid, r.PathValue("macaddress"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+netid+`.conf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(conf)
}

func (h *MeshHandlers) lastModified(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	t, err := h.Mesh.LastModified(r.Context(), p, r.PathValue("network"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, t)
}
