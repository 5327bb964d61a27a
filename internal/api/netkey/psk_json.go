package netkey

import (
	"encoding/json"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// pskJSON is a PSK as NetKey shows it, plus "expired" (whether its expiry
// instant has passed at now). The passphrase is shown only when withValue.
func pskJSON(p *psk.PSK, now time.Time, withValue bool) map[string]any {
	m := map[string]any{
		"id": p.ID, "psk_id": p.PSKID, "description": p.Description, "vlan_id": p.VLANID,
		"enabled": p.Enabled, "expires": optionalTimestamp(p.Expires), "created_at": timestamp(p.CreatedAt),
		"expired": p.Expired(now),
	}
	if withValue {
		m["psk_value"] = p.Passphrase
	}
	return m
}

// endpointJSON is an endpoint; psk_id is its PSK's numeric id.
func endpointJSON(e *psk.Endpoint) map[string]any {
	return map[string]any{
		"id": e.ID, "mac_address": e.MAC, "description": e.Description, "psk_id": e.PSKID,
		"vlan_id": e.VLANID, "enabled": e.Enabled, "last_seen": optionalTimestamp(e.LastSeen),
		"created_at": timestamp(e.CreatedAt),
	}
}

// pskBody is the body of POST /api/v1/psks and of each bulk item. Unknown
// fields are ignored.
type pskBody struct {
	PSKID          string  `json:"psk_id"`
	PSKValue       string  `json:"psk_value"`
	Description    string  `json:"description"`
	VLANID         *int    `json:"vlan_id"`
	Expires        *string `json:"expires"`
	ExpiresInHours *int    `json:"expires_in_hours"`
	Enabled        *bool   `json:"enabled"`
	GroupID        int64   `json:"group_id"` // super principals; default the caller's group
}

func (b *pskBody) newPSK() psk.NewPSK {
	in := psk.NewPSK{PSKID: b.PSKID, Passphrase: b.PSKValue, Description: b.Description, VLANID: b.VLANID,
		ExpiresInHours: b.ExpiresInHours, Enabled: b.Enabled}
	if b.Expires != nil {
		in.Expires = *b.Expires
	}
	return in
}

// endpointBody is the body of POST /api/v1/endpoints and of each bulk item.
type endpointBody struct {
	MAC         string          `json:"mac_address"`
	Description string          `json:"description"`
	PSKID       json.RawMessage `json:"psk_id"` // the numeric id, or the psk_id name
	VLANID      *int            `json:"vlan_id"`
	Enabled     *bool           `json:"enabled"`
	GroupID     int64           `json:"group_id"`
}

func (b *endpointBody) newEndpoint() (psk.NewEndpoint, error) {
	ref, err := pskRef(b.PSKID)
	if err != nil {
		return psk.NewEndpoint{}, err
	}
	if ref == nil {
		return psk.NewEndpoint{}, invalidField("psk_id", "psk_id is required")
	}
	return psk.NewEndpoint{MAC: b.MAC, Description: b.Description, PSK: *ref, VLANID: b.VLANID, Enabled: b.Enabled}, nil
}

// pskRef reads psk_id: a JSON number is the PSK's id, a string its name
// (or, failing that, its id in text). Absent or null gives nil.
func pskRef(raw json.RawMessage) (*psk.PSKRef, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var id int64
	if err := json.Unmarshal(raw, &id); err == nil {
		if id < 1 {
			return nil, invalidField("psk_id", "psk_id must be a positive id or a psk_id name")
		}
		return &psk.PSKRef{ID: id}, nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil || name == "" {
		return nil, invalidField("psk_id", "psk_id must be a PSK's id or its psk_id name")
	}
	return &psk.PSKRef{Name: name}, nil
}

// optionalInt reads a field that may be absent (nil, false), null (nil,
// true: clear it) or a whole number.
func optionalInt(raw json.RawMessage, field string) (*int, bool, error) {
	if len(raw) == 0 {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, false, invalidField(field, field+" must be a whole number or null")
	}
	return &n, false, nil
}

func invalidField(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}
