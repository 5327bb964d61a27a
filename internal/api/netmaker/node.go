package netmaker

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
)

// nodeBody is a node as agents and scripts send it. Clients may send the
// whole node back on update: read-only fields are ignored, and unchanged
// values change nothing.
type nodeBody struct {
	AccessKey           string  `json:"accesskey"`
	MACAddress          string  `json:"macaddress"`
	PublicKey           *string `json:"publickey"`
	Name                *string `json:"name"`
	Endpoint            *string `json:"endpoint"`
	ListenPort          *int    `json:"listenport"`
	LocalAddress        *string `json:"localaddress"`
	Password            *string `json:"password"`
	PersistentKeepalive *int    `json:"persistentkeepalive"`
	Interface           *string `json:"interface"`
	OS                  *string `json:"os"`
	Address             *string `json:"address"`
	Address6            *string `json:"address6"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// join creates a node: the access key in the body alone authorises it
// (Custom access); without one, an administrator's credential does.
func (h *MeshHandlers) join(w http.ResponseWriter, r *http.Request) {
	var in nodeBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	p := api.PrincipalFrom(r.Context())
	n, net, err := h.Mesh.Join(r.Context(), p, api.Source(r), r.PathValue("network"), mesh.JoinFields{
		AccessKey: in.AccessKey, MAC: in.MACAddress, PublicKey: str(in.PublicKey), Name: str(in.Name),
		Endpoint: str(in.Endpoint), ListenPort: num(in.ListenPort), LocalAddress: str(in.LocalAddress),
		Password: str(in.Password), PersistentKeepalive: in.PersistentKeepalive, Interface: str(in.Interface),
		OS: str(in.OS), Address: str(in.Address), Address6: str(in.Address6),
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.setNodeToken(w, n)
	api.WriteJSON(w, http.StatusOK, n.Wire(net))
}

// The headers carrying a node's JWT on join and on its own check-ins, so an
// agent keeps a valid credential without a password (see internal/mesh).
const (
	headerNodeToken        = "X-Node-Token"
	headerNodeTokenExpires = "X-Node-Token-Expires"
)

func (h *MeshHandlers) setNodeToken(w http.ResponseWriter, n *mesh.Node) {
	tok, exp, err := h.Mesh.IssueNodeToken(n)
	if err != nil {
		return // the node exists; the agent can authenticate with its password
	}
	w.Header().Set(headerNodeToken, tok)
	w.Header().Set(headerNodeTokenExpires, exp.UTC().Format(time.RFC3339))
	w.Header().Set("Cache-Control", "no-store")
}

func (h *MeshHandlers) listNodes(w http.ResponseWriter, r *http.Request) {
	nodes, nets, err := h.Mesh.ListNodes(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("network"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]meshwire.Node, len(nodes))
	for i, n := range nodes {
		out[i] = n.Wire(nets[n.NetworkID])
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *MeshHandlers) getNode(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	n, net, err := h.Mesh.GetNode(r.Context(), p, r.PathValue("network"), r.PathValue("macaddress"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, n.Wire(net))
}

func (h *MeshHandlers) updateNode(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	var in nodeBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	netid, mac := r.PathValue("network"), r.PathValue("macaddress")
	_, err := h.Mesh.UpdateNode(r.Context(), p, source(r, p), netid, mac, mesh.NodePatch{
		Name: in.Name, PublicKey: in.PublicKey, Endpoint: in.Endpoint, ListenPort: in.ListenPort,
		LocalAddress: in.LocalAddress, Password: in.Password, PersistentKeepalive: in.PersistentKeepalive,
		Interface: in.Interface, OS: in.OS, Address: in.Address, Address6: in.Address6,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	h.getNode(w, r, p)
}

// deleteNode answers the JSON string "<macaddress> deleted.".
func (h *MeshHandlers) deleteNode(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	mac := r.PathValue("macaddress")
	if err := h.Mesh.DeleteNode(r.Context(), p, source(r, p), r.PathValue("network"), mac); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, mac+" deleted.")
}

// checkIn records a sign of life and answers the node (needkeyupdate tells
// an agent without a stream to rotate its key); a node's own check-in also
// renews its JWT.
func (h *MeshHandlers) checkIn(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	n, net, err := h.Mesh.CheckIn(r.Context(), p, r.PathValue("network"), r.PathValue("macaddress"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if p.Kind == authz.KindNode {
		h.setNodeToken(w, n) // renewed: a node that checks in never needs its password
	}
	api.WriteJSON(w, http.StatusOK, n.Wire(net))
}
