package netmaker

import (
	"net/http"
	"strings"

	"netkeep/internal/api"
)

// createGateway makes the node an egress gateway. The ranges come as
// {"ranges": [...]} or as the seed's comma-separated "rangestring".
func (h *MeshHandlers) createGateway(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ranges      []string `json:"ranges"`
		RangeString string   `json:"rangestring"`
		Interface   string   `json:"interface"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	ranges := in.Ranges
	for _, s := range strings.Split(in.RangeString, ",") {
		if s = strings.TrimSpace(s); s != "" {
			ranges = append(ranges, s)
		}
	}
	n, err := h.Mesh.CreateGateway(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		r.PathValue("network"), r.PathValue("macaddress"), ranges, in.Interface)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.nodeJSON(w, r, n.Network, n.MAC)
}

func (h *MeshHandlers) deleteGateway(w http.ResponseWriter, r *http.Request) {
	n, err := h.Mesh.DeleteGateway(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		r.PathValue("network"), r.PathValue("macaddress"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.nodeJSON(w, r, n.Network, n.MAC)
}

// approve admits a pending node (approve and uncordon are the same).
func (h *MeshHandlers) approve(w http.ResponseWriter, r *http.Request) {
	n, err := h.Mesh.Approve(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		r.PathValue("network"), r.PathValue("macaddress"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.nodeJSON(w, r, n.Network, n.MAC)
}

// nodeJSON answers the node as the caller may read it.
func (h *MeshHandlers) nodeJSON(w http.ResponseWriter, r *http.Request, netid, mac string) {
	n, net, err := h.Mesh.GetNode(r.Context(), api.PrincipalFrom(r.Context()), netid, mac)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, n.Wire(net))
}
