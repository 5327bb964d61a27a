package netkey

import (
	"encoding/json"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// pskJSON is a PSK as NetKey documents it (GET /api/v1/psks/{id}, POST
// /api/v1/psks), plus "expired": whether its expiry instant had passed at
// the service's now. PSKValue is empty, and omitted, in listings.
type pskJSON struct {
	ID          int64   `json:"id"`
	PSKID       string  `json:"psk_id"`
	PSKValue    string  `json:"psk_value,omitempty"`
	Description string  `json:"description"`
	VLANID      *int    `json:"vlan_id"`
	Enabled     bool    `json:"enabled"`
	Expires     *string `json:"expires"`
	CreatedAt   string  `json:"created_at"`
	Expired     bool    `json:"expired"`
}

// newPSKJSON shows p as judged at now; the passphrase only when withValue.
func newPSKJSON(p *psk.PSK, now time.Time, withValue bool) pskJSON {
	out := pskJSON{ID: p.ID, PSKID: p.PSKID, Description: p.Description, VLANID: p.VLANID, Enabled: p.Enabled,
		Expires: optionalTime(p.Expires), CreatedAt: timestamp(p.CreatedAt), Expired: p.Expired(now)}
	if withValue {
		out.PSKValue = p.Passphrase
	}
	return out
}

func newPSKsJSON(ps []*psk.PSK, now time.Time, withValue bool) []pskJSON {
	return each(ps, func(p *psk.PSK) pskJSON { return newPSKJSON(p, now, withValue) })
}

// each maps every element of in through f.
func each[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// pskListJSON is GET /api/v1/psks.
type pskListJSON struct {
	PSKs  []pskJSON `json:"psks"`
	Total int       `json:"total"`
}

// pskBulkJSON is POST /api/v1/psks/bulk.
type pskBulkJSON struct {
	Success bool      `json:"success"`
	Created int       `json:"created"`
	PSKs    []pskJSON `json:"psks"`
}

// importJSON is POST /api/v1/psks/import.
type importJSON struct {
	Success   bool `json:"success"`
	Imported  int  `json:"imported"`
	Endpoints int  `json:"endpoints"`
}

// deletedJSON is DELETE /api/v1/psks/{id} and /api/v1/endpoints/{id}.
type deletedJSON struct {
	Success   bool  `json:"success"`
	DeletedID int64 `json:"deleted_id"`
}

// endpointJSON is an endpoint; psk_id is its PSK's numeric id.
type endpointJSON struct {
	ID          int64   `json:"id"`
	MAC         string  `json:"mac_address"`
	Description string  `json:"description"`
	PSKID       int64   `json:"psk_id"`
	VLANID      *int    `json:"vlan_id"`
	Enabled     bool    `json:"enabled"`
	LastSeen    *string `json:"last_seen"`
	CreatedAt   string  `json:"created_at"`
}

func newEndpointJSON(e *psk.Endpoint) endpointJSON {
	return endpointJSON{ID: e.ID, MAC: e.MAC, Description: e.Description, PSKID: e.PSKID, VLANID: e.VLANID,
		Enabled: e.Enabled, LastSeen: optionalTime(e.LastSeen), CreatedAt: timestamp(e.CreatedAt)}
}

func newEndpointsJSON(es []*psk.Endpoint) []endpointJSON { return each(es, newEndpointJSON) }

// endpointListJSON is GET /api/v1/endpoints.
type endpointListJSON struct {
	Endpoints []endpointJSON `json:"endpoints"`
	Total     int            `json:"total"`
}

// endpointBulkJSON is POST /api/v1/endpoints/bulk.
type endpointBulkJSON struct {
	Success   bool           `json:"success"`
	Created   int            `json:"created"`
	Endpoints []endpointJSON `json:"endpoints"`
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
