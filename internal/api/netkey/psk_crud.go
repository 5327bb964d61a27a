package netkey

import (
	"encoding/json"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/psk"
)

// listPSKs: {"psks": [...], "total": N}, without passphrases. Query:
// limit (default 100, at most 1000), offset, enabled, vlan_id, expired,
// search (psk_id or description), group_id (super principals).
func (h *Handlers) listPSKs(w http.ResponseWriter, r *http.Request) {
	q := &query{r: r}
	f := psk.Filter{
		Limit:   q.int("limit", psk.DefaultLimit, 1, psk.MaxLimit),
		Offset:  q.int("offset", 0, 0, 1<<31-1),
		Enabled: q.bool("enabled"),
		VLANID:  q.optInt("vlan_id", 1, 4094),
		Expired: q.bool("expired"),
		Search:  r.URL.Query().Get("search"),
		GroupID: q.int64("group_id"),
	}
	if q.err != nil {
		api.Error(w, r, q.err)
		return
	}
	page, err := h.PSKs.List(r.Context(), api.PrincipalFrom(r.Context()), f)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, pskListJSON{PSKs: newPSKsJSON(page.PSKs, page.At, false), Total: page.Total})
}

func (h *Handlers) getPSK(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, psk.PSKNotFound)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	p, err := h.PSKs.Get(r.Context(), api.PrincipalFrom(r.Context()), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, newPSKJSON(p, h.PSKs.Now(), true))
}

func (h *Handlers) createPSK(w http.ResponseWriter, r *http.Request) {
	var in pskBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	p, err := h.PSKs.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.GroupID, in.newPSK())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, newPSKJSON(p, h.PSKs.Now(), true))
}

// updatePSK changes the fields present in the body; vlan_id and expires
// may be null to remove them.
func (h *Handlers) updatePSK(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, psk.PSKNotFound)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		PSKID          *string         `json:"psk_id"`
		PSKValue       *string         `json:"psk_value"`
		Description    *string         `json:"description"`
		VLANID         json.RawMessage `json:"vlan_id"`
		Expires        json.RawMessage `json:"expires"`
		ExpiresInHours *int            `json:"expires_in_hours"`
		Enabled        *bool           `json:"enabled"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	patch := psk.Patch{PSKID: in.PSKID, Passphrase: in.PSKValue, Description: in.Description,
		ExpiresInHours: in.ExpiresInHours, Enabled: in.Enabled}
	if patch.VLANID, patch.ClearVLAN, err = optionalInt(in.VLANID, "vlan_id"); err != nil {
		api.Error(w, r, err)
		return
	}
	if len(in.Expires) > 0 {
		var s *string
		if err := json.Unmarshal(in.Expires, &s); err != nil {
			api.Error(w, r, invalidField("expires", "expires must be an ISO 8601 string or null"))
			return
		}
		if s == nil || *s == "" {
			s = new(string) // null: no expiry
		}
		patch.Expires = s
	}
	p, err := h.PSKs.Update(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, patch)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, newPSKJSON(p, h.PSKs.Now(), true))
}

func (h *Handlers) deletePSK(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, psk.PSKNotFound)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.PSKs.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, deletedJSON{Success: true, DeletedID: id})
}
