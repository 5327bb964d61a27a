package netmaker

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
)

// keyJSON is Netmaker's access key: name, value, accessstring, uses and
// (netkeep's addition) expiration, RFC 3339 or null.
type keyJSON struct {
	Name         string     `json:"name"`
	Value        string     `json:"value"`
	AccessString string     `json:"accessstring"`
	Uses         int        `json:"uses"`
	Expiration   *time.Time `json:"expiration"`
}

func (h *MeshHandlers) keyOut(r *http.Request, netid string, k *mesh.AccessKey) keyJSON {
	as := meshwire.AccessString{Server: h.baseURL(r), Network: netid, Key: k.Value}
	return keyJSON{Name: k.Name, Value: k.Value, AccessString: as.Encode(), Uses: k.Uses, Expiration: k.ExpiresAt}
}

func (h *MeshHandlers) listKeys(w http.ResponseWriter, r *http.Request) {
	netid := r.PathValue("netid")
	keys, err := h.Mesh.ListKeys(r.Context(), api.PrincipalFrom(r.Context()), netid)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = h.keyOut(r, netid, k)
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, out)
}

// parseExpiration reads an access key's expiry as sent: RFC 3339 text, or
// a number of seconds from now; null, "", 0 or absent mean none.
func parseExpiration(raw json.RawMessage) (*time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	bad := fault.New(fault.Invalid, "expiration must be RFC 3339 time or seconds").WithDetails(map[string]any{"field": "expiration"})
	var secs int64
	if err := json.Unmarshal(raw, &secs); err == nil {
		if secs <= 0 {
			return nil, nil
		}
		t := time.Now().Add(time.Duration(secs) * time.Second)
		return &t, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, bad
	}
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, bad
	}
	return &t, nil
}

func (h *MeshHandlers) createKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name       string          `json:"name"`
		Value      string          `json:"value"`
		Uses       int             `json:"uses"`
		Expiration json.RawMessage `json:"expiration"`
	}
	if err := decodeOptional(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	exp, err := parseExpiration(in.Expiration)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	netid := r.PathValue("netid")
	k, err := h.Mesh.CreateKey(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), netid,
		mesh.KeyFields{Name: in.Name, Value: in.Value, Uses: in.Uses, ExpiresAt: exp})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, h.keyOut(r, netid, k))
}

// deleteKey answers the JSON string "<name> deleted.".
func (h *MeshHandlers) deleteKey(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("keyname")
	err := h.Mesh.DeleteKey(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("netid"), name)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, name+" deleted.")
}

// baseURL is the server's URL for access strings and the install script
// (api.BaseURL).
func (h *MeshHandlers) baseURL(r *http.Request) string {
	return api.BaseURL(r, h.PublicURL, h.TrustProxyHeaders)
}
