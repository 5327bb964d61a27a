package gatekey

import (
	"context"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/geo"
)

// GeoFence is what the geo-fence handlers need of the geo domain;
// *geo.Service implements it.
type GeoFence interface {
	Settings(ctx context.Context, p *authz.Principal) (*geo.Settings, error)
	UpdateGlobal(ctx context.Context, p *authz.Principal, src audit.Source, in geo.Input) (*geo.Policy, error)
	GroupPolicy(ctx context.Context, p *authz.Principal, groupID int64) (*geo.GroupPolicy, error)
	PutGroup(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in geo.Input) (*geo.GroupPolicy, error)
	DeleteGroup(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64) error
	Check(ctx context.Context, p *authz.Principal, groupID int64, addr string) (*geo.Verdict, error)
}

// geoPolicyBody is a policy as a request gives it; absent fields keep
// their value. unknown_policy is accepted for unknown_country.
type geoPolicyBody struct {
	Enabled        *bool     `json:"enabled"`
	Mode           *geo.Mode `json:"mode"`
	Countries      []string  `json:"countries"`
	UnknownCountry *geo.Mode `json:"unknown_country"`
	UnknownPolicy  *geo.Mode `json:"unknown_policy"`
}

func (b geoPolicyBody) input() geo.Input {
	unknown := b.UnknownCountry
	if unknown == nil {
		unknown = b.UnknownPolicy
	}
	return geo.Input{Enabled: b.Enabled, Mode: b.Mode, Countries: b.Countries, Unknown: unknown}
}

type geoPolicyJSON struct {
	Enabled        bool     `json:"enabled"`
	Mode           geo.Mode `json:"mode"`
	Countries      []string `json:"countries"`
	UnknownCountry geo.Mode `json:"unknown_country"`
	UpdatedAt      *string  `json:"updated_at"`
}

func geoPolicyOf(p geo.Policy) geoPolicyJSON {
	out := geoPolicyJSON{Enabled: p.Enabled, Mode: p.Mode, Countries: orEmpty(p.Countries), UnknownCountry: p.Unknown}
	if !p.UpdatedAt.IsZero() {
		out.UpdatedAt = optionalTime(&p.UpdatedAt)
	}
	return out
}

type geoGroupJSON struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	geoPolicyJSON
}

func geoGroupOf(g *geo.GroupPolicy) geoGroupJSON {
	return geoGroupJSON{GroupID: g.GroupID, GroupName: g.GroupName, geoPolicyJSON: geoPolicyOf(g.Policy)}
}

// geoSettingsJSON is the server-wide policy, whether a country database is
// configured, and the groups' own policies the caller may see.
type geoSettingsJSON struct {
	geoPolicyJSON
	Database       bool           `json:"database"`
	GroupOverrides []geoGroupJSON `json:"group_overrides"`
}

type geoCheckJSON struct {
	IP      string `json:"ip"`
	Country string `json:"country"`
	GroupID int64  `json:"group_id"`
	Policy  string `json:"policy"`
	Allowed bool   `json:"allowed"`
}

func (h *Handlers) geoSettings(w http.ResponseWriter, r *http.Request) {
	s, err := h.Geo.Settings(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	groups := make([]geoGroupJSON, len(s.Groups))
	for i, g := range s.Groups {
		groups[i] = geoGroupOf(g)
	}
	writeData(w, r, http.StatusOK, geoSettingsJSON{geoPolicyJSON: geoPolicyOf(s.Global), Database: s.Database, GroupOverrides: groups})
}

func (h *Handlers) updateGeoSettings(w http.ResponseWriter, r *http.Request) {
	var in geoPolicyBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	p, err := h.Geo.UpdateGlobal(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, geoPolicyOf(*p))
}

var errGroupID = fault.New(fault.NotFound, "group not found")

// groupIDOf reads the {group_id} path value; a malformed one names no
// group.
func groupIDOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("group_id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errGroupID
	}
	return id, nil
}

func (h *Handlers) geoGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupIDOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Geo.GroupPolicy(r.Context(), api.PrincipalFrom(r.Context()), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, geoGroupOf(g))
}

func (h *Handlers) putGeoGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupIDOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in geoPolicyBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Geo.PutGroup(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, geoGroupOf(g))
}

func (h *Handlers) deleteGeoGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupIDOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.Geo.DeleteGroup(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, strconv.FormatInt(id, 10))
}

// geoCheck reports what the fence would decide for ?ip= (for the caller's
// group, or ?group_id= for a super administrator), without recording it.
func (h *Handlers) geoCheck(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var gid int64
	if s := q.Get("group_id"); s != "" {
		var err error
		if gid, err = strconv.ParseInt(s, 10, 64); err != nil || gid <= 0 {
			api.Error(w, r, fault.New(fault.Invalid, "group_id must be a positive integer").WithDetails(map[string]any{"field": "group_id"}))
			return
		}
	}
	v, err := h.Geo.Check(r.Context(), api.PrincipalFrom(r.Context()), gid, q.Get("ip"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, geoCheckJSON{IP: v.Address, Country: v.Country, GroupID: v.GroupID, Policy: v.Policy, Allowed: v.Allowed})
}
