package netmaker

import (
	"net/http"

	"netkeep/internal/api"
)

// addServer makes the server itself a node of the network and answers it.
func (h *MeshHandlers) addServer(w http.ResponseWriter, r *http.Request) {
	n, err := h.Mesh.AddServer(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("netid"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.nodeJSON(w, r, n.Network, n.MAC)
}

// removeServer answers the JSON string "Server removed from network <netid>".
func (h *MeshHandlers) removeServer(w http.ResponseWriter, r *http.Request) {
	netid := r.PathValue("netid")
	if err := h.Mesh.RemoveServer(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, "Server removed from network "+netid)
}
