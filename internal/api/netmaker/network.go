package netmaker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
	"netkeep/internal/ratelimit"
)

// MeshService is what the mesh handlers need of the mesh domain.
type MeshService interface {
	ListNetworks(ctx context.Context, p *authz.Principal) ([]*mesh.Network, error)
	GetNetwork(ctx context.Context, p *authz.Principal, netid string) (*mesh.Network, error)
	CreateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, f mesh.NetworkFields) (*mesh.Network, error)
	UpdateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, netid string, f mesh.NetworkFields) (*mesh.Network, error)
	DeleteNetwork(ctx context.Context, p *authz.Principal, src audit.Source, netid string) error
	KeyUpdate(ctx context.Context, p *authz.Principal, src audit.Source, netid string) (*mesh.Network, error)

	ListKeys(ctx context.Context, p *authz.Principal, netid string) ([]*mesh.AccessKey, error)
	CreateKey(ctx context.Context, p *authz.Principal, src audit.Source, netid string, f mesh.KeyFields) (*mesh.AccessKey, error)
	DeleteKey(ctx context.Context, p *authz.Principal, src audit.Source, netid, name string) error

	ListNodes(ctx context.Context, p *authz.Principal, netid string) ([]*mesh.Node, map[int64]*mesh.Network, error)
	Join(ctx context.Context, p *authz.Principal, src audit.Source, netid string, in mesh.JoinFields) (*mesh.Node, *mesh.Network, error)
	GetNode(ctx context.Context, p *authz.Principal, netid, mac string) (*mesh.Node, *mesh.Network, error)
	UpdateNode(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string, patch mesh.NodePatch) (*mesh.Node, error)
	DeleteNode(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) error
	CheckIn(ctx context.Context, p *authz.Principal, netid, mac string) (*mesh.Node, *mesh.Network, error)
	CreateGateway(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string, ranges []string, iface string) (*mesh.Node, error)
	DeleteGateway(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) (*mesh.Node, error)
	Approve(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) (*mesh.Node, error)
	LastModified(ctx context.Context, p *authz.Principal, netid string) (int64, error)

	AuthenticateNode(ctx context.Context, netid, mac, password string) (string, time.Time, error)
	AuthenticateNodeToken(ctx context.Context, token string) (*authz.Principal, error)
	IssueNodeToken(n *mesh.Node) (string, time.Time, error)
	Peers(ctx context.Context, p *authz.Principal, netid, mac string) (mesh.PeerList, error)
	Config(ctx context.Context, p *authz.Principal, netid, mac string) ([]byte, error)
	SubscribeFrom(ctx context.Context, p *authz.Principal, netid, mac string, held *meshwire.ViewDigest) (*mesh.Stream, error)

	AddServer(ctx context.Context, p *authz.Principal, src audit.Source, netid string) (*mesh.Node, error)
	RemoveServer(ctx context.Context, p *authz.Principal, src audit.Source, netid string) error
}

// MeshHandlers serve the Netmaker dialect's mesh API: networks, access keys,
// nodes and gateways, node credentials, peer views, the push stream and the
// agent download. Node calls accept a node JWT (from
// /api/nodes/adm/{network}/authenticate) or an administrator's credential.
type MeshHandlers struct {
	Mesh MeshService
	Auth *api.Authenticator
	// AuthLimiter limits node authentication per source IP.
	AuthLimiter *ratelimit.Limiter
	// TrustProxyHeaders takes the scheme and host of URLs the server gives
	// out (access strings, the install script) from X-Forwarded-Proto and
	// X-Forwarded-Host.
	TrustProxyHeaders bool
	// PublicURL, when set, is the base of those URLs instead (the public-url
	// setting: the server's address as clients outside see it).
	PublicURL string
	// Executable returns the path of the binary served as the agent;
	// os.Executable when nil.
	Executable func() (string, error)
}

// flexBool accepts JSON booleans and Netmaker's older "yes"/"no" strings.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch strings.ToLower(strings.Trim(string(bytes.TrimSpace(data)), `"`)) {
	case "true", "yes", "1":
		*b = true
	case "false", "no", "0", "", "null":
		*b = false
	default:
		return fault.New(fault.Invalid, "expected a boolean or \"yes\"/\"no\"")
	}
	return nil
}

func boolPtr(b *flexBool) *bool {
	if b == nil {
		return nil
	}
	v := bool(*b)
	return &v
}

// networkBody is a network as clients send it; absent fields stay unset.
// Clients may send the whole object back: read-only fields are ignored.
type networkBody struct {
	NetID             string  `json:"netid"`
	DisplayName       *string `json:"displayname"`
	AddressRange      *string `json:"addressrange"`
	AddressRange6     *string `json:"addressrange6"`
	DefaultListenPort *int    `json:"defaultlistenport"`
	DefaultKeepalive  *int    `json:"defaultkeepalive"`
	DefaultInterface  *string `json:"defaultinterface"`
	CheckInInterval   *int    `json:"checkininterval"`
	// The seed era's name of checkininterval (mesh.NetworkFields says
	// which wins when both come).
	DefaultCheckInInterval *int      `json:"defaultcheckininterval"`
	AllowManualSignUp      *flexBool `json:"allowmanualsignup"`
	RequireApproval        *flexBool `json:"requireapproval"`
	GroupID                int64     `json:"group_id"`
}

func (b *networkBody) fields() mesh.NetworkFields {
	return mesh.NetworkFields{
		NetID: b.NetID, GroupID: b.GroupID, DisplayName: b.DisplayName, AddressRange: b.AddressRange,
		AddressRange6: b.AddressRange6, DefaultListenPort: b.DefaultListenPort, DefaultKeepalive: b.DefaultKeepalive,
		DefaultInterface: b.DefaultInterface, CheckInInterval: b.CheckInInterval, DefaultCheckInInterval: b.DefaultCheckInInterval,
		AllowManualSignUp: boolPtr(b.AllowManualSignUp), RequireApproval: boolPtr(b.RequireApproval),
	}
}

func (h *MeshHandlers) listNetworks(w http.ResponseWriter, r *http.Request) {
	nets, err := h.Mesh.ListNetworks(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]meshwire.Network, len(nets))
	for i, n := range nets {
		out[i] = n.Wire()
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *MeshHandlers) createNetwork(w http.ResponseWriter, r *http.Request) {
	var in networkBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	n, err := h.Mesh.CreateNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.fields())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, n.Wire())
}

func (h *MeshHandlers) getNetwork(w http.ResponseWriter, r *http.Request) {
	n, err := h.Mesh.GetNetwork(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("netid"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, n.Wire())
}

// updateNetwork applies the fields present. The netid names the network and
// cannot change.
func (h *MeshHandlers) updateNetwork(w http.ResponseWriter, r *http.Request) {
	var in networkBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	netid := r.PathValue("netid")
	if in.NetID != "" && in.NetID != netid {
		api.Error(w, r, fault.New(fault.Invalid, "netid cannot change").WithDetails(map[string]any{"field": "netid"}))
		return
	}
	f := in.fields()
	f.GroupID = 0
	n, err := h.Mesh.UpdateNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid, f)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, n.Wire())
}

// deleteNetwork answers Netmaker's JSON string "success".
func (h *MeshHandlers) deleteNetwork(w http.ResponseWriter, r *http.Request) {
	err := h.Mesh.DeleteNetwork(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("netid"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, "success")
}

func (h *MeshHandlers) keyUpdate(w http.ResponseWriter, r *http.Request) {
	n, err := h.Mesh.KeyUpdate(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("netid"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, n.Wire())
}

// decodeOptional decodes a JSON body if there is one: Netmaker clients call
// some POST endpoints without a body, or with one of blanks only. It looks
// at the body itself (the first non-blank byte), never at an error's text.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	br := bufio.NewReader(r.Body)
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	for {
		c, err := br.ReadByte()
		switch {
		case errors.Is(err, io.EOF):
			return nil // blanks only: no body
		case err != nil, c != ' ' && c != '\t' && c != '\r' && c != '\n':
			if err == nil {
				_ = br.UnreadByte()
			}
			return api.Decode(r, v) // the decoder reports a read error too (size, say)
		}
	}
}

var _ json.Unmarshaler = (*flexBool)(nil)
